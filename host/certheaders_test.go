package host

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestClientCertHeaderSpellingsStripped: over plain HTTP, a client that
// spells the client certificate headers with '_' for '-', in any case, or
// mixes the two, reaches the guest (router-wat's /headers, which lists the
// request headers it gets) with none of them, while other names with '_'
// and names that only resemble these pass.
func TestClientCertHeaderSpellingsStripped(t *testing.T) {
	t.Parallel()
	base, _ := start(t, readFile(t, "guest-examples/router-wat/router.wasm"), 2)
	cases := []struct {
		name string
		sent []string // header names, each sent with the value "forged"
		kept []string // of those, the ones the guest must see
	}{
		{"underscores", []string{"X_Client_Cert_Subject", "X_Client_Cert"}, nil},
		{"lower case underscores", []string{"x_client_cert_subject", "x_client_cert"}, nil},
		{"upper case underscores", []string{"X_CLIENT_CERT_SUBJECT", "X_CLIENT_CERT"}, nil},
		{"mixed separators", []string{"X-Client_Cert-Subject", "X_Client-Cert"}, nil},
		{"mixed separators and case", []string{"x-CLIENT-cert_sUbJeCt", "X-client_CERT"}, nil},
		{"canonical", []string{"X-Client-Cert-Subject", "X-Client-Cert"}, nil},
		{"canonical and underscores together", []string{"X-Client-Cert-Subject", "x_client_cert_subject", "X-Client-Cert", "x_client_cert"}, nil},
		{"other underscore names pass", []string{"X_Client_Cert", "X_Request_Note", "Cert_Subject"}, []string{"X_Request_Note", "Cert_Subject"}},
		{"names that only resemble pass", []string{"X_Client_Certs", "X_Client_Cert_Subjects", "Y_Client_Cert", "X__Client_Cert"},
			[]string{"X_Client_Certs", "X_Client_Cert_Subjects", "Y_Client_Cert", "X__Client_Cert"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", base+"/headers", nil)
			for _, n := range c.sent {
				req.Header[n] = []string{"forged"} // as spelt: the client sends the key as it is
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d, %v: %s", resp.StatusCode, err, body)
			}
			seen := map[string]bool{} // names as the guest lists them, folded
			for _, line := range strings.Split(string(body), "\n") {
				name, value, ok := strings.Cut(line, ": ")
				if !ok {
					continue
				}
				folded := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
				if folded == "x-client-cert" || folded == "x-client-cert-subject" {
					t.Errorf("the guest got %q: %q", name, value)
				}
				if value == "forged" {
					seen[strings.ToLower(name)] = true
				}
			}
			for _, k := range c.kept {
				if !seen[strings.ToLower(k)] {
					t.Errorf("%q did not reach the guest; it got:\n%s", k, body)
				}
			}
			if n := strings.Count(string(body), ": forged\n"); n != len(c.kept) {
				t.Errorf("%d forged values reached the guest, want %d:\n%s", n, len(c.kept), body)
			}
		})
	}
}
