package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// helpBlocks runs `wasmserve args... --help` and returns the help's groups
// in order, and the text of each flag's block (its head line and its
// description) by flag name.
func helpBlocks(t *testing.T, args ...string) (groups []string, groupOf, blocks map[string]string) {
	t.Helper()
	out, err := exec.Command(binary, append(args, "--help")...).Output()
	if err != nil {
		t.Fatalf("%v --help: %v", args, err)
	}
	groupOf, blocks = map[string]string{}, map[string]string{}
	group, flag := "", ""
	head := regexp.MustCompile(`^  --([a-z0-9-]+)`)
	for _, line := range strings.Split(string(out), "\n") {
		switch m := head.FindStringSubmatch(line); {
		case strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " "):
			group = strings.TrimSuffix(line, ":")
			groups = append(groups, group)
			flag = ""
		case m != nil:
			flag = m[1]
			groupOf[flag] = group
			blocks[flag] = line
		case flag != "" && strings.HasPrefix(line, "        "):
			blocks[flag] += "\n" + line
		}
	}
	return groups, groupOf, blocks
}

// TestHelpText: `serve --help` lists the groups in the order a user needs
// them, every flag with a placeholder naming what its value is (never
// "value"), and no flag with two defaults.
func TestHelpText(t *testing.T) {
	groups, groupOf, blocks := helpBlocks(t, "serve")
	want := []string{"Module and isolates", "Guest", "Middleware", "Listener", "TLS", "Limits", "Responses", "Operations", "Logging", "Outbound HTTP"}
	var known []string
	for _, g := range groups {
		if strings.Contains(strings.Join(want, "|"), g) {
			known = append(known, g)
		}
	}
	if strings.Join(known, "|") != strings.Join(want, "|") {
		t.Errorf("groups %q, want %q in this order", groups, want)
	}
	for _, c := range []struct{ flag, head string }{
		{"handler-timeout", "  --handler-timeout DURATION"},
		{"isolates", "  --isolates N"},
		{"memory-limit", "  --memory-limit SIZE"},
		{"address", "  --address, -a ADDR"},
		{"admin", "  --admin ADDR"},
		{"tls-cert", "  --tls-cert FILE"},
		{"port-file", "  --port-file FILE"},
		{"cache-dir", "  --cache-dir DIR"},
		{"upstream", "  --upstream URL"},
		{"watch", "  --watch"},
	} {
		if got, _, _ := strings.Cut(blocks[c.flag], "\n"); got != c.head {
			t.Errorf("head of --%s is %q, want %q", c.flag, got, c.head)
		}
	}
	for _, c := range []struct{ flag, group string }{
		{"abi", "Module and isolates"}, {"isolates", "Module and isolates"},
		{"port", "Listener"}, {"compress", "Responses"}, {"header", "Responses"},
		{"grace", "Operations"}, {"admin", "Operations"}, {"handler-timeout", "Limits"}, {"log-format", "Logging"},
	} {
		if groupOf[c.flag] != c.group {
			t.Errorf("--%s is under %q, want %q", c.flag, groupOf[c.flag], c.group)
		}
	}
	for _, f := range serveFlags() {
		name := f.Names()[0]
		b, ok := blocks[name]
		if !ok {
			t.Errorf("--%s is not in serve --help", name)
			continue
		}
		if c, ok := f.(cli.CategorizableFlag); !ok || c.GetCategory() == "" {
			t.Errorf("--%s has no group", name)
		}
		head, _, _ := strings.Cut(b, "\n")
		if strings.HasSuffix(head, " value") {
			t.Errorf("--%s shows its value as \"value\": %q", name, head)
		}
		if n := strings.Count(b, "(default"); n > 1 {
			t.Errorf("--%s has %d defaults:\n%s", name, n, b)
		}
		fields := strings.Fields(head)
		if d, ok := f.(cli.DocGenerationFlag); ok && d.TakesValue() && strings.HasPrefix(fields[len(fields)-1], "-") {
			t.Errorf("--%s takes a value and shows no placeholder: %q", name, head)
		}
	}
	if b := blocks["v6only"]; strings.Contains(b, "(default: false)") {
		t.Errorf("--v6only shows a second default:\n%s", b)
	}
	if b := blocks["read-timeout"]; !strings.Contains(b, "(default: 1m)") {
		t.Errorf("--read-timeout does not show its default as 1m:\n%s", b)
	}
}

// TestHelpOfOtherCommands: dev takes serve's flags without --watch, test
// puts its own flags first, new shows its languages.
func TestHelpOfOtherCommands(t *testing.T) {
	_, _, dev := helpBlocks(t, "dev")
	if _, ok := dev["watch"]; ok {
		t.Error("dev --help lists --watch, which dev always does")
	}
	if _, ok := dev["handler-timeout"]; !ok {
		t.Error("dev --help lacks serve's flags")
	}
	groups, _, test := helpBlocks(t, "test")
	if len(groups) == 0 || groups[0] != "Cases" {
		t.Errorf("test --help groups %q, want Cases first", groups)
	}
	if h, _, _ := strings.Cut(test["junit"], "\n"); h != "  --junit FILE" {
		t.Errorf("test --help: %q", h)
	}
	_, _, newFlags := helpBlocks(t, "new")
	if !strings.Contains(newFlags["lang"], "go, rust, assemblyscript, c, wat, js (default: go)") {
		t.Errorf("new --help: %q", newFlags["lang"])
	}
}

// TestHelpCommand: `wasmserve help COMMAND` is `wasmserve COMMAND --help`,
// for every command, in the same layout.
func TestHelpCommand(t *testing.T) {
	for _, name := range []string{"serve", "new", "build", "dev", "check", "test", "certs", "version"} {
		viaHelp, err := exec.Command(binary, "help", name).Output()
		if err != nil {
			t.Fatalf("help %s: %v", name, err)
		}
		viaFlag, err := exec.Command(binary, name, "--help").Output()
		if err != nil {
			t.Fatalf("%s --help: %v", name, err)
		}
		if string(viaHelp) != string(viaFlag) {
			t.Errorf("help %s differs from %s --help:\n%s\n---\n%s", name, name, viaHelp, viaFlag)
		}
		if !strings.HasPrefix(string(viaFlag), "wasmserve "+name+" - ") || !strings.Contains(string(viaFlag), "\nUsage: wasmserve "+name) {
			t.Errorf("%s --help:\n%s", name, viaFlag)
		}
	}
}

// TestHelpUnknownTopic: `wasmserve help chek` says it is no command, and
// which was meant, as `wasmserve chek` does.
func TestHelpUnknownTopic(t *testing.T) {
	out, err := exec.Command(binary, "help", "chek").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("exit %v, want 2", err)
	}
	if want := `wasmserve: "chek" is not a command; did you mean "check"?`; !strings.Contains(string(out), want) {
		t.Errorf("output %q, want %q", out, want)
	}
}
