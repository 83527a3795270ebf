package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server-side process: azvcr or the floor, pinned to the server core when pinning is
// possible. Its stdout is read line by line; its stderr goes to a log file in the work directory.
type proc struct {
	name    string
	cmd     *exec.Cmd
	lines   chan string
	started time.Time
	log     string
	pprof   string // host:port of net/http/pprof, when built with -tags benchprof
}

// serverCore and clientCore split the machine: the processes measured on one core, the load
// generator (this process) on the other, as the measurements were made.
const (
	serverCore = "0"
	clientCore = "1"
)

func (h *harness) start(name string, env []string, argv ...string) (*proc, error) {
	if h.pinned {
		argv = append([]string{"taskset", "-c", serverCore}, argv...)
	}
	p := &proc{name: name, lines: make(chan string, 64), log: filepath.Join(h.work, name+".log")}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(append(os.Environ(), "AZVCR_CA_DIR="+filepath.Join(h.work, "azvcr-ca")), env...)
	if h.profile != "" {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p.pprof = "127.0.0.1:" + port
		p.cmd.Env = append(p.cmd.Env, "AZVCR_PPROF="+p.pprof)
	}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = logf
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		defer logf.Close()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for more
			}
		}
		close(p.lines)
	}()
	h.procs = append(h.procs, p)
	return p, nil
}

// waitLine waits for a stdout line starting with prefix and returns the rest of it.
func (p *proc) waitLine(prefix string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("%s exited before printing %q; its log: %s\n%s", p.name, prefix, p.log, tail(p.log))
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest, nil
			}
		case <-deadline:
			return "", fmt.Errorf("%s printed no %q in %s; its log: %s\n%s", p.name, prefix, timeout, p.log, tail(p.log))
		}
	}
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// statusKB reads a field (VmHWM, VmRSS) of the process's /proc status, in KiB.
func (p *proc) statusKB(field string) int64 { return statusKB(strconv.Itoa(p.cmd.Process.Pid), field) }

// statusKB reads a field of /proc/<pid>/status ("self" for this process), in KiB; 0 when gone.
func statusKB(pid, field string) int64 { return statusField("/proc/"+pid+"/status", field) }

// statusField reads a "Name: N kB" field of a /proc file.
func statusField(file, field string) int64 {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeak starts VmHWM again from the current RSS (Linux clear_refs 5).
func (p *proc) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0)
}

// cpu is the CPU time the process has used (user and system).
func (p *proc) cpu() time.Duration { return cpuOf(strconv.Itoa(p.cmd.Process.Pid)) }

// cpuOf is the CPU time /proc/<pid>/stat gives ("self" for this process); 0 when gone.
func cpuOf(pid string) time.Duration {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// stop ends the process: SIGTERM, then SIGKILL if it lingers.
func (p *proc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// kill ends the process with SIGKILL, as a crash or an impatient CI runner would.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// cpuMeter measures the CPU the server-side processes use over a window, and this process's
// (the load generator's).
type cpuMeter struct {
	procs       []*proc
	start, self time.Duration
}

func meterCPU(procs ...*proc) *cpuMeter {
	m := &cpuMeter{procs: procs, self: cpuOf("self")}
	m.start = m.sum()
	return m
}

func (m *cpuMeter) client() time.Duration { return cpuOf("self") - m.self }

func (m *cpuMeter) sum() time.Duration {
	var t time.Duration
	for _, p := range m.procs {
		t += p.cpu()
	}
	return t
}

func (m *cpuMeter) used() time.Duration { return m.sum() - m.start }
