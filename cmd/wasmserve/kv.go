package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host/ext/kv"
)

// kvFlags configure the key-value stores guests may open (docs/kv.md):
// none unless named.
func kvFlags() []cli.Flag {
	return []cli.Flag{
		&cli.GenericFlag{Name: "kv-store", Value: &repeated{}, EnvVars: env("kv-store"),
			Usage: "let guests open the store NAME at URL: default=file:kv.db (on disk, every write fsynced), cache=redis://127.0.0.1:6379/0 (shared by many servers), test=mem: (gone at exit) (repeatable; none = no stores)"},
		&cli.StringFlag{Name: "kv-max-value", Value: "1MiB", EnvVars: env("kv-max-value"),
			Usage: "largest value a guest may store"},
		&cli.IntFlag{Name: "kv-max-keys", EnvVars: env("kv-max-keys"),
			Usage: "keys each store may hold (on Redis: the whole database); 0 = no bound"},
		&cli.DurationFlag{Name: "kv-timeout", Value: kv.DefaultTimeout, EnvVars: env("kv-timeout"),
			Usage: "bound on one operation on a Redis store, within what is left of --handler-timeout"},
	}
}

// kvConfig reads the key-value flags.
func kvConfig(c *cli.Context, kc *kv.Config) error {
	seen := map[string]bool{}
	for _, s := range *c.Generic("kv-store").(*repeated) {
		sc, err := kv.ParseStore(s)
		if err != nil {
			return fmt.Errorf("--kv-store %w", err)
		}
		if seen[sc.Name] {
			return fmt.Errorf("--kv-store: store %q is named twice", sc.Name)
		}
		seen[sc.Name] = true
		kc.Stores = append(kc.Stores, sc)
	}
	size, err := parseSize(c.String("kv-max-value"))
	if err != nil {
		return fmt.Errorf("--kv-max-value: %w", err)
	}
	if size == 0 {
		return fmt.Errorf("--kv-max-value must be above 0")
	}
	kc.MaxValue = int64(size)
	if n := c.Int("kv-max-keys"); n < 0 {
		return fmt.Errorf("--kv-max-keys must be 0 (no bound) or more, got %d", n)
	}
	kc.MaxKeys = c.Int("kv-max-keys")
	if d := c.Duration("kv-timeout"); d <= 0 {
		return fmt.Errorf("--kv-timeout must be above 0, got %s", d)
	}
	kc.Timeout = c.Duration("kv-timeout")
	return nil
}
