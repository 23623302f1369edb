//go:build !linux

package wasip2

import (
	"io/fs"
	"time"
)

// sysInfo is what a stat tells beyond fs.FileInfo; outside Linux, only
// what fs.FileInfo tells.
type sysInfo struct {
	nlink            uint64
	atime, ctime     time.Time
	hasTimes, hasIDs bool
	dev, ino         uint64
}

func sysStat(fs.FileInfo) sysInfo { return sysInfo{nlink: 1} }

// noFollow: outside Linux a symbolic link as the last component is
// refused by open-at's own check before opening.
func noFollow(bool) int { return 0 }
