package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kinds maps "apiVersion kind" to a new value of its upstream Go type. A
// manifest of any other kind is an error: add its type here first.
var kinds = map[string]func() any{
	"apps/v1 Deployment":                            func() any { return new(appsv1.Deployment) },
	"v1 Service":                                    func() any { return new(corev1.Service) },
	"v1 ConfigMap":                                  func() any { return new(corev1.ConfigMap) },
	"autoscaling/v2 HorizontalPodAutoscaler":        func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"policy/v1 PodDisruptionBudget":                 func() any { return new(policyv1.PodDisruptionBudget) },
	"monitoring.coreos.com/v1 ServiceMonitor":       func() any { return new(monitoringv1.ServiceMonitor) },
	"kustomize.config.k8s.io/v1beta1 Kustomization": func() any { return new(types.Kustomization) },
	"kustomize.config.k8s.io/v1alpha1 Component":    func() any { return new(types.Kustomization) },
}

// docSep splits a YAML stream into documents.
var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeStream decodes every document of a YAML stream strictly into its
// upstream type: an unknown or duplicated field is an error, as is an
// apiVersion and kind that kinds does not know.
func decodeStream(data []byte) ([]any, error) {
	var out []any
	for i, doc := range docSep.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		obj, err := decodeStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// decodeStrict decodes one document into the type its apiVersion and kind
// name.
func decodeStrict(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	mk := kinds[tm.APIVersion+" "+tm.Kind]
	if mk == nil {
		return nil, fmt.Errorf("apiVersion %q kind %q has no upstream type in this test: add it to kinds", tm.APIVersion, tm.Kind)
	}
	// As the API server decodes: field names case-sensitive (encoding/json
	// alone would take readOnlyRootFileSystem for readOnlyRootFilesystem),
	// unknown and duplicated fields errors.
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	obj := mk()
	if err := unmarshalStrict(js, obj); err != nil {
		return nil, fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	return obj, nil
}

// unmarshalStrict decodes JSON as the API server does: case-sensitive
// field names, unknown and duplicated fields errors.
func unmarshalStrict(js []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(js, v)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	return err
}

// stripComments drops the comment lines of a YAML document.
func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// render runs kustomize on dir, as `kubectl apply -k dir` would, and
// decodes what it produced strictly.
func render(dir string) ([]any, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	return decodeStream(out)
}

// yamlFiles lists every .yaml file under root.
func yamlFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestManifestsDecodeStrictly: every YAML file under kubernetes/ (resources,
// patches, kustomizations, components) decodes into its upstream type with
// unknown fields as errors.
func TestManifestsDecodeStrictly(t *testing.T) {
	files := yamlFiles(t, "kubernetes")
	if len(files) < 10 {
		t.Fatalf("found %d manifests under kubernetes/, expected the base, overlays and components", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeStream(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) == 0 {
				t.Fatal("no document")
			}
		})
	}
}

// TestStrictDecodeRejects: the decoder refuses what the API server would
// (or would silently drop), so TestManifestsDecodeStrictly can fail.
func TestStrictDecodeRejects(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", "apiVersion: v1\nkind: Service\nspec:\n  selektor: {a: b}\n", `unknown field "spec.selektor"`},
		{"misplaced field", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: x\n        readOnlyRootFilesystem: true\n", "unknown field"},
		{"field in the wrong case", "apiVersion: v1\nkind: Service\nspec:\n  clusterIp: None\n", `unknown field "spec.clusterIp"`},
		{"duplicate field", "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n", "already set"},
		{"wrong type", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nspec:\n  selector: yes\n", "cannot unmarshal"},
		{"unknown kind", "apiVersion: v1\nkind: Pod\n", "no upstream type"},
		{"unknown kustomize field", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresourcez: [a.yaml]\n", "unknown field"},
		{"unknown ServiceMonitor field", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nspec:\n  endpoints:\n  - port: admin\n    pth: /metrics\n", "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStream([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// kustomizations are the directories a user applies with kubectl apply -k,
// and the kinds each renders to.
var kustomizations = []struct {
	dir   string
	kinds []string
}{
	{"kubernetes/base", []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"}},
	{"kubernetes/overlays/monitoring", []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "Service", "ServiceMonitor"}},
	{"kubernetes/overlays/image-volume", []string{"Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"}},
	{"kubernetes/overlays/init-container", []string{"Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"}},
	{"kubernetes/overlays/many-apps", []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"}},
}

// TestKustomizationsRender renders every kustomization, decodes the output
// strictly and checks the invariants of check.go on it.
func TestKustomizationsRender(t *testing.T) {
	listed := map[string]bool{}
	for _, k := range kustomizations {
		listed[k.dir] = true
		t.Run(k.dir, func(t *testing.T) {
			objs, err := render(k.dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, kindOf(o))
			}
			if strings.Join(sorted(got), ",") != strings.Join(k.kinds, ",") {
				t.Errorf("rendered kinds %v, want %v", sorted(got), k.kinds)
			}
			for _, p := range problems(objs) {
				t.Error(p)
			}
		})
	}
	// A new overlay must be added to the table above, so it gets checked.
	for _, f := range yamlFiles(t, "kubernetes") {
		if filepath.Base(f) != "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("kind: Component")) {
			continue
		}
		if dir := filepath.Dir(f); !listed[dir] {
			t.Errorf("%s is not in the kustomizations table of this test", dir)
		}
	}
}

// TestBaseModule: the module in the base's ConfigMap is the hello-wat
// example, byte for byte, so the committed copy cannot drift from it.
func TestBaseModule(t *testing.T) {
	objs, err := render("kubernetes/base")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../guest-examples/hello-wat/hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			if got := cm.BinaryData["handler.wasm"]; !bytes.Equal(got, want) {
				t.Fatalf("ConfigMap %s handler.wasm is %d bytes, not guest-examples/hello-wat/hello.wasm (%d bytes): cp guest-examples/hello-wat/hello.wasm deploy/kubernetes/base/handler.wasm", cm.Name, len(got), len(want))
			}
			return
		}
	}
	t.Fatal("the base renders no ConfigMap")
}

// kindOf is the kind of a decoded object.
func kindOf(o any) string {
	switch o.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *corev1.Service:
		return "Service"
	case *corev1.ConfigMap:
		return "ConfigMap"
	case *autoscalingv2.HorizontalPodAutoscaler:
		return "HorizontalPodAutoscaler"
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	case *monitoringv1.ServiceMonitor:
		return "ServiceMonitor"
	}
	return fmt.Sprintf("%T", o)
}

// TestHPACommentedExample: the commented busy-isolates metric in hpa.yaml
// decodes strictly as a metric of the HorizontalPodAutoscaler, so a user
// who uncomments it gets a valid manifest.
func TestHPACommentedExample(t *testing.T) {
	data, err := os.ReadFile("kubernetes/base/hpa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var block []string
lines:
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "    # ")
		switch {
		case ok && strings.HasPrefix(rest, "- type: Pods"):
			block = append(block, rest)
		case ok && len(block) > 0 && strings.HasPrefix(rest, "  "):
			block = append(block, rest)
		case len(block) > 0:
			break lines
		}
	}
	if len(block) < 5 {
		t.Fatalf("no commented `- type: Pods` metric in hpa.yaml (found %q)", block)
	}
	js, err := yaml.YAMLToJSONStrict([]byte(strings.Join(block, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	var metrics []autoscalingv2.MetricSpec
	if err := unmarshalStrict(js, &metrics); err != nil {
		t.Fatalf("the commented metric: %v\n%s", err, strings.Join(block, "\n"))
	}
	if m := metrics[0]; m.Pods == nil || m.Pods.Metric.Name != "wasmserve_isolates_busy" || m.Pods.Target.AverageValue == nil {
		t.Fatalf("the commented metric is %+v, want Pods wasmserve_isolates_busy with an averageValue", m)
	}
}
