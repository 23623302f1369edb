package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// isManifest says whether the server's argument is a manifest of many
// apps rather than one module.
func isManifest(arg string) bool { return strings.HasSuffix(arg, ".toml") }

// manifestApp is what the checks read of one app of a manifest.
type manifestApp struct {
	Name        string `toml:"name"`
	Module      string `toml:"module"`
	Dir         string `toml:"dir"`
	Isolates    *int64 `toml:"isolates"`
	MemoryLimit string `toml:"memory-limit"`
}

// configMapFile is the file at rel of a ConfigMap volume: the key items
// map to rel, else the key rel.
func configMapFile(cm *corev1.ConfigMap, items []corev1.KeyToPath, rel string) []byte {
	key := rel
	if len(items) > 0 {
		key = ""
		for _, it := range items {
			if it.Path == rel {
				key = it.Key
			}
		}
	}
	if b := cm.BinaryData[key]; b != nil {
		return b
	}
	if s, ok := cm.Data[key]; ok {
		return []byte(s)
	}
	return nil
}

// manifestApps reads the manifest the server's argument names, from its
// ConfigMap, and checks that every module and static folder it names is
// in the same volume. It returns nil apps for a module argument.
func manifestApps(spec corev1.PodSpec, c *corev1.Container, args serveArgs, cms map[string]*corev1.ConfigMap) ([]manifestApp, []string) {
	if !isManifest(args.module) {
		return nil, nil
	}
	m := mountOf(c, args.module)
	if m == nil {
		return nil, []string{fmt.Sprintf("the manifest %s is on no volume mount of the container", args.module)}
	}
	var vol *corev1.ConfigMapVolumeSource
	for _, v := range spec.Volumes {
		if v.Name == m.Name {
			vol = v.ConfigMap
		}
	}
	if vol == nil || cms[vol.Name] == nil {
		return nil, []string{fmt.Sprintf("the manifest's volume %s is not a rendered ConfigMap", m.Name)}
	}
	cm := cms[vol.Name]
	rel := strings.TrimPrefix(args.module, strings.TrimSuffix(m.MountPath, "/")+"/")
	doc := configMapFile(cm, vol.Items, rel)
	if doc == nil {
		return nil, []string{fmt.Sprintf("ConfigMap %s has no manifest at %s (the server's argument is %s)", cm.Name, rel, args.module)}
	}
	var raw struct {
		App    []manifestApp `toml:"app"`
		Static []manifestApp `toml:"static"`
	}
	if err := toml.Unmarshal(doc, &raw); err != nil {
		return nil, []string{fmt.Sprintf("ConfigMap %s: the manifest %s does not parse: %v", cm.Name, rel, err)}
	}
	var p []string
	base := path.Dir(rel)
	for _, a := range raw.App {
		if data := configMapFile(cm, vol.Items, path.Join(base, a.Module)); !bytes.HasPrefix(data, []byte("\x00asm")) {
			p = append(p, fmt.Sprintf("app %s: ConfigMap %s has no WebAssembly module at %s", a.Name, cm.Name, path.Join(base, a.Module)))
		}
	}
	for _, s := range raw.Static {
		dir, found := path.Join(base, s.Dir)+"/", false
		for _, it := range vol.Items {
			found = found || strings.HasPrefix(it.Path, dir)
		}
		if !found {
			p = append(p, fmt.Sprintf("static %s: no item of ConfigMap %s is under %s", s.Name, cm.Name, dir))
		}
	}
	if len(raw.App) == 0 && len(raw.Static) == 0 {
		p = append(p, fmt.Sprintf("ConfigMap %s: the manifest %s has no apps", cm.Name, rel))
	}
	if raw.App == nil {
		raw.App = []manifestApp{}
	}
	return raw.App, p
}

// TestManyAppsManifest: the manifest of the many-apps overlay, written out
// as the kubelet projects its ConfigMap, passes `wasmserve check` of this
// checkout; its module is the hello-wat example, byte for byte.
func TestManyAppsManifest(t *testing.T) {
	objs, err := render("kubernetes/overlays/many-apps")
	if err != nil {
		t.Fatal(err)
	}
	var (
		d   *appsv1.Deployment
		cms = map[string]*corev1.ConfigMap{}
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			d = o
		case *corev1.ConfigMap:
			cms[o.Name] = o
		}
	}
	c, args, errs := server(d)
	if c == nil {
		t.Fatal(errs)
	}
	dir := t.TempDir()
	var items []corev1.KeyToPath
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && cms[v.ConfigMap.Name] != nil {
			items = v.ConfigMap.Items
			for _, it := range items {
				p := filepath.Join(dir, filepath.FromSlash(it.Path))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, configMapFile(cms[v.ConfigMap.Name], nil, it.Key), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(items) == 0 {
		t.Fatal("no ConfigMap volume with items")
	}
	want, err := os.ReadFile("../guest-examples/hello-wat/hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "hello.wasm")); !bytes.Equal(got, want) {
		t.Fatal("the overlay's hello.wasm is not guest-examples/hello-wat/hello.wasm: cp guest-examples/hello-wat/hello.wasm deploy/kubernetes/overlays/many-apps/")
	}
	out, err := exec.Command(wasmserve(t), "check", filepath.Join(dir, path.Base(args.module))).CombinedOutput()
	if err != nil {
		t.Fatalf("wasmserve check of the overlay's manifest: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "result:") || !strings.Contains(string(out), "ok (3 apps") {
		t.Errorf("wasmserve check:\n%s", out)
	}
}

// TestManyAppsChecks: the checks read the manifest: a memory limit below
// the sum over the apps, a module missing from the ConfigMap, a static
// folder with no file are each caught.
func TestManyAppsChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(d *appsv1.Deployment, cm *corev1.ConfigMap)
		want   string
	}{
		{"memory below the apps' sum", func(d *appsv1.Deployment, _ *corev1.ConfigMap) {
			c := &d.Spec.Template.Spec.Containers[0]
			q := c.Resources.Limits[corev1.ResourceMemory]
			q.Set(200 << 20)
			c.Resources.Limits[corev1.ResourceMemory], c.Resources.Requests[corev1.ResourceMemory] = q, q
		}, "the apps' isolates x memory limits"},
		{"module missing", func(_ *appsv1.Deployment, cm *corev1.ConfigMap) { delete(cm.BinaryData, "hello.wasm") },
			"app hello: ConfigMap"},
		{"static folder empty", func(d *appsv1.Deployment, _ *corev1.ConfigMap) {
			v := d.Spec.Template.Spec.Volumes
			for i := range v {
				if v[i].ConfigMap != nil {
					v[i].ConfigMap.Items = v[i].ConfigMap.Items[:2]
				}
			}
		}, "static site: no item"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := render("kubernetes/overlays/many-apps")
			if err != nil {
				t.Fatal(err)
			}
			if p := problems(objs); len(p) != 0 {
				t.Fatalf("problems before the mutation: %v", p)
			}
			var d *appsv1.Deployment
			var cm *corev1.ConfigMap
			for _, o := range objs {
				switch o := o.(type) {
				case *appsv1.Deployment:
					d = o
				case *corev1.ConfigMap:
					cm = o
				}
			}
			tc.mutate(d, cm)
			if p := strings.Join(problems(objs), "\n"); !strings.Contains(p, tc.want) {
				t.Errorf("problems %q, want one with %q", p, tc.want)
			}
		})
	}
}
