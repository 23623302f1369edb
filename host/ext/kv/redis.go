package kv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a store in one Redis database (URL redis://host:port/db), which
// many wasmserve processes can share: every operation is one Redis command
// or script, so increments and swaps are atomic across processes. Keys are
// the database's own, unprefixed. The connection pool reconnects by itself
// after an outage; meanwhile operations fail with the network's error
// within their deadline.
type Redis struct {
	c    *redis.Client
	opts Options
}

// Scripts run in Redis, atomically, so that the quota check and the write
// are one step. KEYS[1] is the key, ARGV[1] the quota (0: none).
var (
	// ARGV[2] the value, ARGV[3] the TTL in milliseconds (0: none).
	scriptSet = redis.NewScript(`
if tonumber(ARGV[1]) > 0 and redis.call('EXISTS', KEYS[1]) == 0 and redis.call('DBSIZE') >= tonumber(ARGV[1]) then
  return redis.error_reply('QUOTA')
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1`)
	// ARGV[2] the delta.
	scriptIncr = redis.NewScript(`
if tonumber(ARGV[1]) > 0 and redis.call('EXISTS', KEYS[1]) == 0 and redis.call('DBSIZE') >= tonumber(ARGV[1]) then
  return redis.error_reply('QUOTA')
end
return redis.call('INCRBY', KEYS[1], ARGV[2])`)
	// ARGV[2] "1" when the key must be absent, ARGV[3] the old value,
	// ARGV[4] the new one.
	scriptCAS = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[2] == '1' then
  if cur then return 0 end
  if tonumber(ARGV[1]) > 0 and redis.call('DBSIZE') >= tonumber(ARGV[1]) then
    return redis.error_reply('QUOTA')
  end
elseif cur ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[4])
return 1`)
)

// OpenRedis connects to the Redis database rawURL names. It does not
// wait for the server: a store whose server is down opens, fails its
// operations, and serves again once the server is back.
func OpenRedis(rawURL string, opts Options) (*Redis, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store URL %s: %w", redactURL(rawURL), err)
	}
	t := opts.Timeout
	if t <= 0 {
		t = DefaultRedisTimeout
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = t, t, t, t
	o.ContextTimeoutEnabled = true
	// A failed command is not retried: the guest gets the error within
	// its deadline and may retry itself.
	o.MaxRetries = -1
	return &Redis{c: redis.NewClient(o), opts: opts}, nil
}

// redactURL hides a password in a Redis URL for messages.
func redactURL(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			return s[:i+3] + "…" + s[at:]
		}
	}
	return s
}

// quotaErr maps the scripts' QUOTA reply to ErrQuota.
func (s *Redis) quotaErr(err error) error {
	if err != nil && strings.Contains(err.Error(), "QUOTA") {
		return fmt.Errorf("%w: %d keys", ErrQuota, s.opts.MaxKeys)
	}
	return err
}

// Get is GET.
func (s *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	return v, err
}

// Set is SET, with PX for a TTL, in a script that checks the quota.
func (s *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if s.opts.MaxKeys <= 0 {
		var exp time.Duration
		if ttl > 0 {
			exp = max(ttl, time.Millisecond)
		}
		return s.c.Set(ctx, key, value, exp).Err()
	}
	ms := int64(0)
	if ttl > 0 {
		ms = max(ttl.Milliseconds(), 1)
	}
	return s.quotaErr(scriptSet.Run(ctx, s.c, []string{key}, s.opts.MaxKeys, value, ms).Err())
}

// Delete is DEL.
func (s *Redis) Delete(ctx context.Context, key string) (bool, error) {
	n, err := s.c.Del(ctx, key).Result()
	return n > 0, err
}

// Exists is EXISTS.
func (s *Redis) Exists(ctx context.Context, key string) (bool, error) {
	n, err := s.c.Exists(ctx, key).Result()
	return n > 0, err
}

// Keys is SCAN with MATCH prefix*: the cursor is SCAN's, keys come in no
// order, a page may be empty while the cursor is not, or hold a few more
// keys than limit (SCAN's COUNT is a hint), and a key may come twice in one
// listing (SCAN's guarantees).
func (s *Redis) Keys(ctx context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	var c uint64
	if cursor != "" {
		var err error
		if c, err = strconv.ParseUint(cursor, 10, 64); err != nil {
			return nil, "", fmt.Errorf("%w: cursor %q is not one a Redis store returned", errInvalidCursor, cursor)
		}
	}
	keys, next, err := s.c.Scan(ctx, c, globEscape(prefix)+"*", int64(limit)).Result()
	if err != nil {
		return nil, "", err
	}
	if next == 0 {
		return keys, "", nil
	}
	return keys, strconv.FormatUint(next, 10), nil
}

// errInvalidCursor is a cursor no Keys returned.
var errInvalidCursor = errors.New("invalid cursor")

// globEscape escapes the glob characters of Redis' MATCH.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Increment is INCRBY, in a script that checks the quota.
func (s *Redis) Increment(ctx context.Context, key string, delta int64) (int64, error) {
	var n int64
	var err error
	if s.opts.MaxKeys <= 0 {
		n, err = s.c.IncrBy(ctx, key, delta).Result()
	} else {
		n, err = scriptIncr.Run(ctx, s.c, []string{key}, s.opts.MaxKeys, delta).Int64()
		err = s.quotaErr(err)
	}
	if err != nil && (strings.Contains(err.Error(), "not an integer") || strings.Contains(err.Error(), "overflow")) {
		return 0, fmt.Errorf("%w: %v", ErrNotNumber, err)
	}
	return n, err
}

// CompareAndSwap is a script: GET, compare, SET.
func (s *Redis) CompareAndSwap(ctx context.Context, key string, old []byte, absent bool, value []byte) (bool, error) {
	flag := "0"
	if absent {
		flag = "1"
	}
	n, err := scriptCAS.Run(ctx, s.c, []string{key}, s.opts.MaxKeys, flag, old, value).Int64()
	return n == 1, s.quotaErr(err)
}

// Ping is PING.
func (s *Redis) Ping(ctx context.Context) error { return s.c.Ping(ctx).Err() }

// Close closes the connection pool.
func (s *Redis) Close() error { return s.c.Close() }
