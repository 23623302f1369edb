//go:build linux

package wasip2

import (
	"io/fs"
	"syscall"
	"time"
)

// sysInfo is what a stat tells beyond fs.FileInfo.
type sysInfo struct {
	nlink            uint64
	atime, ctime     time.Time
	hasTimes, hasIDs bool
	dev, ino         uint64
}

func sysStat(fi fs.FileInfo) sysInfo {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return sysInfo{nlink: 1}
	}
	return sysInfo{
		nlink:    uint64(st.Nlink),
		atime:    time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec)),
		ctime:    time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)),
		hasTimes: true,
		hasIDs:   true,
		dev:      uint64(st.Dev),
		ino:      uint64(st.Ino),
	}
}

// noFollow is the open flag that refuses a symbolic link as the last
// component of a path.
func noFollow(follow bool) int {
	if follow {
		return 0
	}
	return syscall.O_NOFOLLOW
}
