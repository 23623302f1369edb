package wasip2

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The wasi:filesystem resource types. The Go value of a descriptor or a
// directory-entry-stream is this package's own.
var (
	DescriptorType           = &cabi.Resource{Name: "descriptor"}
	DirectoryEntryStreamType = &cabi.Resource{Name: "directory-entry-stream"}
)

// FilesystemErrorCodeType is wasi:filesystem/types' error-code.
var FilesystemErrorCodeType = enumType("error-code",
	"access", "would-block", "already", "bad-descriptor", "busy", "deadlock", "quota", "exist",
	"file-too-large", "illegal-byte-sequence", "in-progress", "interrupted", "invalid", "io",
	"is-directory", "loop", "too-many-links", "message-size", "name-too-long", "no-device",
	"no-entry", "no-lock", "insufficient-memory", "insufficient-space", "not-directory",
	"not-empty", "not-recoverable", "unsupported", "no-tty", "no-such-device", "overflow",
	"not-permitted", "pipe", "read-only", "invalid-seek", "text-file-busy", "cross-device",
)

var (
	descriptorTypeType = enumType("descriptor-type",
		"unknown", "block-device", "character-device", "directory", "fifo", "symbolic-link", "regular-file", "socket")
	descriptorFlagsType = flagsType("descriptor-flags",
		"read", "write", "file-integrity-sync", "data-integrity-sync", "requested-write-sync", "mutate-directory")
	descriptorStatType = recordType("descriptor-stat",
		cabi.Field{Name: "type", Type: descriptorTypeType},
		cabi.Field{Name: "link-count", Type: cabi.U64Type},
		cabi.Field{Name: "size", Type: cabi.U64Type},
		cabi.Field{Name: "data-access-timestamp", Type: cabi.OptionOf(DatetimeType)},
		cabi.Field{Name: "data-modification-timestamp", Type: cabi.OptionOf(DatetimeType)},
		cabi.Field{Name: "status-change-timestamp", Type: cabi.OptionOf(DatetimeType)},
	)
	pathFlagsType    = flagsType("path-flags", "symlink-follow")
	openFlagsType    = flagsType("open-flags", "create", "directory", "exclusive", "truncate")
	newTimestampType = variantType("new-timestamp",
		cabi.Case{Name: "no-change"}, cabi.Case{Name: "now"}, cabi.Case{Name: "timestamp", Type: DatetimeType})
	directoryEntryType = recordType("directory-entry",
		cabi.Field{Name: "type", Type: descriptorTypeType},
		cabi.Field{Name: "name", Type: cabi.StringType},
	)
	adviceType            = enumType("advice", "normal", "sequential", "random", "will-need", "dont-need", "no-reuse")
	metadataHashValueType = recordType("metadata-hash-value",
		cabi.Field{Name: "lower", Type: cabi.U64Type},
		cabi.Field{Name: "upper", Type: cabi.U64Type},
	)
)

// The error codes used, by name.
var (
	ecAccess       = labelIndex(FilesystemErrorCodeType, "access")
	ecBadFD        = labelIndex(FilesystemErrorCodeType, "bad-descriptor")
	ecBusy         = labelIndex(FilesystemErrorCodeType, "busy")
	ecExist        = labelIndex(FilesystemErrorCodeType, "exist")
	ecTooLarge     = labelIndex(FilesystemErrorCodeType, "file-too-large")
	ecInvalid      = labelIndex(FilesystemErrorCodeType, "invalid")
	ecIO           = labelIndex(FilesystemErrorCodeType, "io")
	ecIsDir        = labelIndex(FilesystemErrorCodeType, "is-directory")
	ecLoop         = labelIndex(FilesystemErrorCodeType, "loop")
	ecTooManyLinks = labelIndex(FilesystemErrorCodeType, "too-many-links")
	ecNameTooLong  = labelIndex(FilesystemErrorCodeType, "name-too-long")
	ecNoEntry      = labelIndex(FilesystemErrorCodeType, "no-entry")
	ecNoSpace      = labelIndex(FilesystemErrorCodeType, "insufficient-space")
	ecNotDir       = labelIndex(FilesystemErrorCodeType, "not-directory")
	ecNotEmpty     = labelIndex(FilesystemErrorCodeType, "not-empty")
	ecUnsupported  = labelIndex(FilesystemErrorCodeType, "unsupported")
	ecNotPermitted = labelIndex(FilesystemErrorCodeType, "not-permitted")
	ecReadOnly     = labelIndex(FilesystemErrorCodeType, "read-only")
	ecInvalidSeek  = labelIndex(FilesystemErrorCodeType, "invalid-seek")
	ecCrossDevice  = labelIndex(FilesystemErrorCodeType, "cross-device")
	ecOverflow     = labelIndex(FilesystemErrorCodeType, "overflow")
)

// The flags, by bit.
const (
	flagRead            = 1 << 0
	flagWrite           = 1 << 1
	flagMutateDirectory = 1 << 5

	pathSymlinkFollow = 1 << 0

	openCreate    = 1 << 0
	openDirectory = 1 << 1
	openExclusive = 1 << 2
	openTruncate  = 1 << 3
)

// MaxFileRead bounds what one descriptor.read returns; the guest gets a
// short read beyond it, as POSIX allows.
const MaxFileRead = 1 << 20

// fsError is an error the filesystem answers with an error-code.
type fsError uint32

func (e fsError) Error() string {
	return "filesystem error " + FilesystemErrorCodeType.Labels[e]
}

// descriptor is the Go value of a wasi:filesystem descriptor: a directory
// (root) or a file (file).
type descriptor struct {
	root     *os.Root
	file     *os.File
	shared   bool   // root is a preopen's, shared by every handle: never closed
	readOnly bool   // under a read-only preopen
	flags    uint32 // descriptor-flags
	name     string // guest path, for messages
}

func (d *descriptor) close() {
	if d.file != nil {
		d.file.Close()
	}
	if d.root != nil && !d.shared {
		d.root.Close()
	}
}

// errorCode maps a Go error of the os package to an error-code.
func errorCode(err error) uint32 {
	var fe fsError
	if errors.As(err, &fe) {
		return uint32(fe)
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if c, ok := errnoCodes[errno]; ok {
			return c
		}
		return ecIO
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ecNoEntry
	case errors.Is(err, fs.ErrExist):
		return ecExist
	case errors.Is(err, fs.ErrPermission):
		return ecAccess
	case errors.Is(err, os.ErrClosed):
		return ecBadFD
	}
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) || errors.As(err, &le) {
		// os.Root's own refusals (a path escaping the directory) carry
		// no errno.
		return ecNotPermitted
	}
	return ecIO
}

var errnoCodes = map[syscall.Errno]uint32{
	syscall.EACCES:       ecAccess,
	syscall.EPERM:        ecNotPermitted,
	syscall.EBADF:        ecBadFD,
	syscall.EBUSY:        ecBusy,
	syscall.EEXIST:       ecExist,
	syscall.EFBIG:        ecTooLarge,
	syscall.EINVAL:       ecInvalid,
	syscall.EIO:          ecIO,
	syscall.EISDIR:       ecIsDir,
	syscall.ELOOP:        ecLoop,
	syscall.EMLINK:       ecTooManyLinks,
	syscall.ENAMETOOLONG: ecNameTooLong,
	syscall.ENOENT:       ecNoEntry,
	syscall.ENOSPC:       ecNoSpace,
	syscall.ENOTDIR:      ecNotDir,
	syscall.ENOTEMPTY:    ecNotEmpty,
	syscall.ENOTSUP:      ecUnsupported,
	syscall.EROFS:        ecReadOnly,
	syscall.ESPIPE:       ecInvalidSeek,
	syscall.EXDEV:        ecCrossDevice,
	syscall.EOVERFLOW:    ecOverflow,
}

func fsErr(code uint32) cabi.Result { return cabi.Result{Err: true, Value: code} }

func fsResult(v any, err error) cabi.Result {
	if err != nil {
		return fsErr(errorCode(err))
	}
	return cabi.Result{Value: v}
}

// checkPath refuses what no descriptor can reach: absolute paths and
// paths that climb out of the directory lexically. Symbolic links that
// lead out are refused by os.Root.
func checkPath(p string) error {
	if p == "" {
		return fsError(ecNoEntry)
	}
	if strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return fsError(ecNotPermitted)
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return fsError(ecNotPermitted)
	}
	return nil
}

func (d *descriptor) dir() error {
	if d.root == nil {
		return fsError(ecNotDir)
	}
	return nil
}

func (d *descriptor) dirAt(p string) error {
	if err := d.dir(); err != nil {
		return err
	}
	return checkPath(p)
}

func (d *descriptor) writable() error {
	if d.readOnly {
		return fsError(ecReadOnly)
	}
	return nil
}

// fileOnly is for the operations of files.
func (d *descriptor) fileOnly() error {
	if d.file == nil {
		return fsError(ecIsDir)
	}
	return nil
}

func (d *descriptor) stat() (fs.FileInfo, error) {
	if d.file != nil {
		return d.file.Stat()
	}
	return d.root.Stat(".")
}

func (d *descriptor) statAt(pathFlags uint32, p string) (fs.FileInfo, error) {
	if err := d.dirAt(p); err != nil {
		return nil, err
	}
	if pathFlags&pathSymlinkFollow != 0 {
		return d.root.Stat(p)
	}
	return d.root.Lstat(p)
}

func fileType(m fs.FileMode) uint32 {
	switch {
	case m.IsDir():
		return 3
	case m&fs.ModeSymlink != 0:
		return 5
	case m&fs.ModeNamedPipe != 0:
		return 4
	case m&fs.ModeSocket != 0:
		return 7
	case m&fs.ModeCharDevice != 0:
		return 2
	case m&fs.ModeDevice != 0:
		return 1
	case m.IsRegular():
		return 6
	}
	return 0
}

func datetime(t time.Time, ok bool) cabi.Option {
	if !ok || t.Unix() < 0 {
		return cabi.Option{}
	}
	return cabi.Option{Some: true, Value: []any{uint64(t.Unix()), uint32(t.Nanosecond())}}
}

func statValue(fi fs.FileInfo) []any {
	s := sysStat(fi)
	return []any{
		fileType(fi.Mode()), s.nlink, uint64(max(fi.Size(), 0)),
		datetime(s.atime, s.hasTimes), datetime(fi.ModTime(), true), datetime(s.ctime, s.hasTimes),
	}
}

// hashSeed keys metadata hashes, so that they do not tell guests inode
// numbers.
var hashSeed = maphash.MakeSeed()

func metadataHash(fi fs.FileInfo) []any {
	s := sysStat(fi)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.dev)
	binary.LittleEndian.PutUint64(b[8:], s.ino)
	if !s.hasIDs {
		// No device and inode here: the best stand-in.
		return []any{maphash.String(hashSeed, fi.Name()), uint64(fi.ModTime().UnixNano())}
	}
	lower := maphash.Bytes(hashSeed, b[:])
	b[0] ^= 0xff
	return []any{lower, maphash.Bytes(hashSeed, b[:])}
}

// openAt is descriptor.open-at.
func (d *descriptor) openAt(pathFlags uint32, p string, oflags, flags uint32) (*descriptor, error) {
	if err := d.dirAt(p); err != nil {
		return nil, err
	}
	if (oflags&(openCreate|openTruncate) != 0 || flags&(flagWrite|flagMutateDirectory) != 0) && d.readOnly {
		return nil, fsError(ecReadOnly)
	}
	follow := pathFlags&pathSymlinkFollow != 0
	if oflags&openCreate == 0 || oflags&openExclusive == 0 {
		var fi fs.FileInfo
		var err error
		if follow {
			fi, err = d.root.Stat(p)
		} else {
			fi, err = d.root.Lstat(p)
		}
		switch {
		case err != nil && (oflags&openCreate == 0 || !errors.Is(err, fs.ErrNotExist)):
			return nil, err
		case err != nil:
			// To be created below.
		case fi.Mode()&fs.ModeSymlink != 0:
			return nil, fsError(ecLoop)
		case fi.IsDir():
			if flags&flagWrite != 0 || oflags&openTruncate != 0 {
				return nil, fsError(ecIsDir)
			}
			sub, err := d.root.OpenRoot(p)
			if err != nil {
				return nil, err
			}
			return &descriptor{root: sub, readOnly: d.readOnly, flags: flags, name: path.Join(d.name, p)}, nil
		case oflags&openDirectory != 0:
			return nil, fsError(ecNotDir)
		}
	}
	if oflags&openDirectory != 0 {
		// Creating a directory is create-directory-at's job.
		return nil, fsError(ecInvalid)
	}
	mode := os.O_RDONLY
	switch {
	case flags&flagRead != 0 && flags&flagWrite != 0:
		mode = os.O_RDWR
	case flags&flagWrite != 0:
		mode = os.O_WRONLY
	}
	if oflags&openCreate != 0 {
		mode |= os.O_CREATE
	}
	if oflags&openExclusive != 0 {
		mode |= os.O_EXCL
	}
	if oflags&openTruncate != 0 {
		mode |= os.O_TRUNC
	}
	f, err := d.root.OpenFile(p, mode|noFollow(follow), 0o666)
	if err != nil {
		return nil, err
	}
	return &descriptor{file: f, readOnly: d.readOnly, flags: flags, name: path.Join(d.name, p)}, nil
}

// fileReader is the input stream of read-via-stream: reads of a regular
// file do not block for long, so it reads synchronously.
type fileReader struct {
	f   *os.File
	off int64
}

func (r *fileReader) Read(n uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	buf := make([]byte, min(n, readerChunk*4))
	k, err := r.f.ReadAt(buf, r.off)
	r.off += int64(k)
	if k > 0 {
		return buf[:k], nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	return nil, err
}

func (r *fileReader) Subscribe() Pollable { return readyPollable{} }
func (r *fileReader) Close()              {}

// fileWriter is the output stream of write-via-stream and
// append-via-stream.
type fileWriter struct {
	f      *os.File
	off    int64
	append bool
	failed bool
}

func (w *fileWriter) CheckWrite() (uint64, error) {
	if w.failed {
		return 0, io.EOF
	}
	return DefaultWriteBudget, nil
}

func (w *fileWriter) Write(p []byte) error {
	if w.failed {
		return io.EOF
	}
	if w.append {
		fi, err := w.f.Stat()
		if err != nil {
			w.failed = true
			return err
		}
		w.off = fi.Size()
	}
	k, err := w.f.WriteAt(p, w.off)
	w.off += int64(k)
	if err != nil {
		w.failed = true
	}
	return err
}

func (w *fileWriter) Flush() error        { return nil }
func (w *fileWriter) Subscribe() Pollable { return readyPollable{} }
func (w *fileWriter) Close()              {}

// dirStream is a directory-entry-stream.
type dirStream struct {
	f       *os.File
	pending []fs.DirEntry
	done    bool
}

func (s *dirStream) next() (cabi.Option, error) {
	if len(s.pending) == 0 && !s.done {
		ents, err := s.f.ReadDir(64)
		if err != nil && !errors.Is(err, io.EOF) {
			return cabi.Option{}, err
		}
		if len(ents) == 0 {
			s.done = true
		}
		s.pending = ents
	}
	if len(s.pending) == 0 {
		return cabi.Option{}, nil
	}
	e := s.pending[0]
	s.pending = s.pending[1:]
	return cabi.Option{Some: true, Value: []any{fileType(e.Type()), e.Name()}}, nil
}

// newTime resolves a new-timestamp against the time now set.
func newTime(v cabi.Variant, cur time.Time) time.Time {
	switch v.Case {
	case 1:
		return time.Now()
	case 2:
		dt := v.Value.([]any)
		return time.Unix(int64(dt[0].(uint64)), int64(dt[1].(uint32)))
	}
	return cur
}

// preopen is one directory of Config.Dirs, opened.
type preopen struct {
	root     *os.Root
	guest    string
	readOnly bool
}

func defineFilesystem(h *component.Host, cfg *Config) error {
	var pre []preopen
	for _, d := range cfg.Dirs {
		root, err := os.OpenRoot(d.HostPath)
		if err != nil {
			return fmt.Errorf("preopening directory %s: %w", d.HostPath, err)
		}
		guest := d.GuestPath
		if guest == "" {
			guest = "/"
		}
		pre = append(pre, preopen{root: root, guest: guest, readOnly: d.ReadOnly})
	}
	ns := names{
		"descriptor": DescriptorType, "directory-entry-stream": DirectoryEntryStreamType,
		"input-stream": InputStreamType, "output-stream": OutputStreamType, "error": ErrorType,
		"datetime": DatetimeType, "filesize": cabi.U64Type, "link-count": cabi.U64Type,
		"descriptor-type": descriptorTypeType, "descriptor-flags": descriptorFlagsType,
		"descriptor-stat": descriptorStatType, "path-flags": pathFlagsType, "open-flags": openFlagsType,
		"new-timestamp": newTimestampType, "directory-entry": directoryEntryType,
		"error-code": FilesystemErrorCodeType, "advice": adviceType, "metadata-hash-value": metadataHashValueType,
	}
	type op = func(d *descriptor, a []any) cabi.Result
	m := func(sig string, f op) *component.HostFunc {
		return ns.method(DescriptorType, sig, func(_ context.Context, args []any) ([]any, error) {
			return []any{f(args[0].(*descriptor), args[1:])}, nil
		})
	}
	funcs := map[string]*component.HostFunc{
		"[method]descriptor.read-via-stream": m("func(offset: filesize) -> result<input-stream, error-code>", func(d *descriptor, a []any) cabi.Result {
			if err := d.fileOnly(); err != nil {
				return fsResult(nil, err)
			}
			if d.flags&flagRead == 0 {
				return fsErr(ecBadFD)
			}
			off := a[0].(uint64)
			if off > 1<<63-1 {
				return fsErr(ecInvalid)
			}
			return cabi.Result{Value: InputStream(&fileReader{f: d.file, off: int64(off)})}
		}),
		"[method]descriptor.write-via-stream": m("func(offset: filesize) -> result<output-stream, error-code>", func(d *descriptor, a []any) cabi.Result {
			return d.writer(a[0].(uint64), false)
		}),
		"[method]descriptor.append-via-stream": m("func() -> result<output-stream, error-code>", func(d *descriptor, _ []any) cabi.Result {
			return d.writer(0, true)
		}),
		"[method]descriptor.advise": m("func(offset: filesize, length: filesize, advice: advice) -> result<_, error-code>", func(d *descriptor, _ []any) cabi.Result {
			return fsResult(nil, d.fileOnly())
		}),
		"[method]descriptor.sync-data": m("func() -> result<_, error-code>", func(d *descriptor, _ []any) cabi.Result {
			return fsResult(nil, d.sync())
		}),
		"[method]descriptor.sync": m("func() -> result<_, error-code>", func(d *descriptor, _ []any) cabi.Result {
			return fsResult(nil, d.sync())
		}),
		"[method]descriptor.get-flags": m("func() -> result<descriptor-flags, error-code>", func(d *descriptor, _ []any) cabi.Result {
			return cabi.Result{Value: d.flags}
		}),
		"[method]descriptor.get-type": m("func() -> result<descriptor-type, error-code>", func(d *descriptor, _ []any) cabi.Result {
			if d.root != nil {
				return cabi.Result{Value: uint32(3)}
			}
			fi, err := d.stat()
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: fileType(fi.Mode())}
		}),
		"[method]descriptor.set-size": m("func(size: filesize) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			if err := d.fileOnly(); err != nil {
				return fsResult(nil, err)
			}
			if err := d.writable(); err != nil {
				return fsResult(nil, err)
			}
			size := a[0].(uint64)
			if size > 1<<63-1 {
				return fsErr(ecTooLarge)
			}
			return fsResult(nil, d.file.Truncate(int64(size)))
		}),
		"[method]descriptor.set-times": m("func(data-access-timestamp: new-timestamp, data-modification-timestamp: new-timestamp) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			if d.root == nil {
				return fsErr(ecUnsupported)
			}
			return fsResult(nil, d.setTimesAt(pathSymlinkFollow, ".", a[0].(cabi.Variant), a[1].(cabi.Variant)))
		}),
		"[method]descriptor.read": m("func(length: filesize, offset: filesize) -> result<tuple<list<u8>, bool>, error-code>", func(d *descriptor, a []any) cabi.Result {
			if err := d.fileOnly(); err != nil {
				return fsResult(nil, err)
			}
			n, off := min(a[0].(uint64), MaxFileRead), a[1].(uint64)
			if off > 1<<63-1 {
				return fsErr(ecInvalid)
			}
			buf := make([]byte, n)
			k, err := d.file.ReadAt(buf, int64(off))
			eof := errors.Is(err, io.EOF)
			if err != nil && !eof {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: []any{buf[:k], eof}}
		}),
		"[method]descriptor.write": m("func(buffer: list<u8>, offset: filesize) -> result<filesize, error-code>", func(d *descriptor, a []any) cabi.Result {
			if err := d.fileOnly(); err != nil {
				return fsResult(nil, err)
			}
			if err := d.writable(); err != nil {
				return fsResult(nil, err)
			}
			off := a[1].(uint64)
			if off > 1<<63-1 {
				return fsErr(ecInvalid)
			}
			k, err := d.file.WriteAt(a[0].([]byte), int64(off))
			if err != nil && k == 0 {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: uint64(k)}
		}),
		"[method]descriptor.read-directory": m("func() -> result<directory-entry-stream, error-code>", func(d *descriptor, _ []any) cabi.Result {
			if err := d.dir(); err != nil {
				return fsResult(nil, err)
			}
			f, err := d.root.Open(".")
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: &dirStream{f: f}}
		}),
		"[method]descriptor.create-directory-at": m("func(path: string) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			p := a[0].(string)
			if err := d.dirAt(p); err != nil {
				return fsResult(nil, err)
			}
			if err := d.writable(); err != nil {
				return fsResult(nil, err)
			}
			return fsResult(nil, d.root.Mkdir(p, 0o777))
		}),
		"[method]descriptor.stat": m("func() -> result<descriptor-stat, error-code>", func(d *descriptor, _ []any) cabi.Result {
			fi, err := d.stat()
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: statValue(fi)}
		}),
		"[method]descriptor.stat-at": m("func(path-flags: path-flags, path: string) -> result<descriptor-stat, error-code>", func(d *descriptor, a []any) cabi.Result {
			fi, err := d.statAt(a[0].(uint32), a[1].(string))
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: statValue(fi)}
		}),
		"[method]descriptor.set-times-at": m("func(path-flags: path-flags, path: string, data-access-timestamp: new-timestamp, data-modification-timestamp: new-timestamp) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			return fsResult(nil, d.setTimesAt(a[0].(uint32), a[1].(string), a[2].(cabi.Variant), a[3].(cabi.Variant)))
		}),
		"[method]descriptor.link-at": m("func(old-path-flags: path-flags, old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			if a[0].(uint32)&pathSymlinkFollow != 0 {
				// Following a symbolic link to link its target is not
				// done by os.Root.
				return fsErr(ecUnsupported)
			}
			oldPath, nd, newPath := a[1].(string), a[2].(*descriptor), a[3].(string)
			return fsResult(nil, d.twoPaths(oldPath, nd, newPath, d.root.Link))
		}),
		"[method]descriptor.open-at": m("func(path-flags: path-flags, path: string, open-flags: open-flags, flags: descriptor-flags) -> result<descriptor, error-code>", func(d *descriptor, a []any) cabi.Result {
			nd, err := d.openAt(a[0].(uint32), a[1].(string), a[2].(uint32), a[3].(uint32))
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: nd}
		}),
		"[method]descriptor.readlink-at": m("func(path: string) -> result<string, error-code>", func(d *descriptor, a []any) cabi.Result {
			p := a[0].(string)
			if err := d.dirAt(p); err != nil {
				return fsResult(nil, err)
			}
			target, err := d.root.Readlink(p)
			return fsResult(target, err)
		}),
		"[method]descriptor.remove-directory-at": m("func(path: string) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			return fsResult(nil, d.removeAt(a[0].(string), true))
		}),
		"[method]descriptor.rename-at": m("func(old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			oldPath, nd, newPath := a[0].(string), a[1].(*descriptor), a[2].(string)
			return fsResult(nil, d.twoPaths(oldPath, nd, newPath, d.root.Rename))
		}),
		"[method]descriptor.symlink-at": m("func(old-path: string, new-path: string) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			target, p := a[0].(string), a[1].(string)
			if err := d.dirAt(p); err != nil {
				return fsResult(nil, err)
			}
			if err := d.writable(); err != nil {
				return fsResult(nil, err)
			}
			if strings.HasPrefix(target, "/") {
				return fsErr(ecNotPermitted)
			}
			return fsResult(nil, d.root.Symlink(target, p))
		}),
		"[method]descriptor.unlink-file-at": m("func(path: string) -> result<_, error-code>", func(d *descriptor, a []any) cabi.Result {
			return fsResult(nil, d.removeAt(a[0].(string), false))
		}),
		"[method]descriptor.is-same-object": ns.method(DescriptorType, "func(other: borrow<descriptor>) -> bool", func(_ context.Context, args []any) ([]any, error) {
			a, b := args[0].(*descriptor), args[1].(*descriptor)
			fa, err1 := a.stat()
			fb, err2 := b.stat()
			return []any{err1 == nil && err2 == nil && os.SameFile(fa, fb)}, nil
		}),
		"[method]descriptor.metadata-hash": m("func() -> result<metadata-hash-value, error-code>", func(d *descriptor, _ []any) cabi.Result {
			fi, err := d.stat()
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: metadataHash(fi)}
		}),
		"[method]descriptor.metadata-hash-at": m("func(path-flags: path-flags, path: string) -> result<metadata-hash-value, error-code>", func(d *descriptor, a []any) cabi.Result {
			fi, err := d.statAt(a[0].(uint32), a[1].(string))
			if err != nil {
				return fsResult(nil, err)
			}
			return cabi.Result{Value: metadataHash(fi)}
		}),
		"[method]directory-entry-stream.read-directory-entry": ns.method(DirectoryEntryStreamType, "func() -> result<option<directory-entry>, error-code>", func(_ context.Context, args []any) ([]any, error) {
			e, err := args[0].(*dirStream).next()
			return []any{fsResult(e, err)}, nil
		}),
		"filesystem-error-code": ns.fn("func(err: borrow<error>) -> option<error-code>", func(_ context.Context, args []any) ([]any, error) {
			err, _ := args[0].(error)
			var fe fsError
			var pe *fs.PathError
			var errno syscall.Errno
			if err != nil && (errors.As(err, &fe) || errors.As(err, &pe) || errors.As(err, &errno)) {
				return []any{cabi.Option{Some: true, Value: errorCode(err)}}, nil
			}
			return []any{cabi.Option{}}, nil
		}),
	}
	types := &component.HostInstance{
		Name: "wasi:filesystem/types", Version: Version, Funcs: funcs,
		Resources: map[string]*component.HostResource{
			"descriptor": {Type: DescriptorType, Drop: func(v any) {
				if d, ok := v.(*descriptor); ok {
					d.close()
				}
			}},
			"directory-entry-stream": {Type: DirectoryEntryStreamType, Drop: func(v any) {
				if s, ok := v.(*dirStream); ok {
					s.f.Close()
				}
			}},
		},
	}
	preopens := &component.HostInstance{
		Name: "wasi:filesystem/preopens", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-directories": ns.fn("func() -> list<tuple<descriptor, string>>", func(context.Context, []any) ([]any, error) {
				out := make([]any, len(pre))
				for i, p := range pre {
					flags := uint32(flagRead)
					if !p.readOnly {
						flags |= flagMutateDirectory
					}
					d := &descriptor{root: p.root, shared: true, readOnly: p.readOnly, flags: flags, name: p.guest}
					out[i] = []any{d, p.guest}
				}
				return []any{out}, nil
			}),
		},
	}
	for _, inst := range []*component.HostInstance{types, preopens} {
		if err := h.Define(inst); err != nil {
			return err
		}
	}
	return nil
}

func (d *descriptor) writer(off uint64, appending bool) cabi.Result {
	if err := d.fileOnly(); err != nil {
		return fsResult(nil, err)
	}
	if err := d.writable(); err != nil {
		return fsResult(nil, err)
	}
	if d.flags&flagWrite == 0 {
		return fsErr(ecBadFD)
	}
	if off > 1<<63-1 {
		return fsErr(ecInvalid)
	}
	return cabi.Result{Value: OutputStream(&fileWriter{f: d.file, off: int64(off), append: appending})}
}

func (d *descriptor) sync() error {
	if d.file != nil {
		return d.file.Sync()
	}
	f, err := d.root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// removeAt is remove-directory-at (dir) and unlink-file-at.
func (d *descriptor) removeAt(p string, dir bool) error {
	if err := d.dirAt(p); err != nil {
		return err
	}
	if err := d.writable(); err != nil {
		return err
	}
	fi, err := d.root.Lstat(p)
	if err != nil {
		return err
	}
	switch {
	case dir && !fi.IsDir():
		return fsError(ecNotDir)
	case !dir && fi.IsDir():
		return fsError(ecIsDir)
	}
	return d.root.Remove(p)
}

// twoPaths runs an operation from a path under d to a path under nd
// (rename, link): within one directory tree only.
func (d *descriptor) twoPaths(oldPath string, nd *descriptor, newPath string, op func(string, string) error) error {
	if err := d.dirAt(oldPath); err != nil {
		return err
	}
	if err := nd.dirAt(newPath); err != nil {
		return err
	}
	if err := d.writable(); err != nil {
		return err
	}
	if nd.root != d.root {
		// Two descriptors of one directory are as one; os.Root does not
		// go from one directory tree to another.
		a, err1 := d.root.Stat(".")
		b, err2 := nd.root.Stat(".")
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			return fsError(ecCrossDevice)
		}
	}
	return op(oldPath, newPath)
}

func (d *descriptor) setTimesAt(pathFlags uint32, p string, atime, mtime cabi.Variant) error {
	if err := d.writable(); err != nil {
		return err
	}
	fi, err := d.statAt(pathFlags, p)
	if err != nil {
		return err
	}
	if pathFlags&pathSymlinkFollow == 0 && fi.Mode()&fs.ModeSymlink != 0 {
		return fsError(ecUnsupported)
	}
	s := sysStat(fi)
	curA := fi.ModTime()
	if s.hasTimes {
		curA = s.atime
	}
	return d.root.Chtimes(p, newTime(atime, curA), newTime(mtime, fi.ModTime()))
}
