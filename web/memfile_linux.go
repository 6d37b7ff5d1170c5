//go:build linux

package web

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// newMemFile returns an anonymous file in memory holding body, sealed
// against change: the front sends it with sendfile(2), so that the kernel
// copies nothing from the process (nginx's edge with gzip_static).
func newMemFile(name string, body []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate("prodcast:"+name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(body); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sendFile writes head, then the first size bytes of f, to c: head with
// MSG_MORE, so that it leaves in the body's first segment, and the body
// with sendfile(2). sent is false when nothing was sent and the caller
// should write the answer itself: c is not a socket, or f was closed (its
// object left the cache).
func sendFile(c net.Conn, head []byte, f *os.File, size int64) (sent bool, err error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false, nil
	}
	conn, err := sc.SyscallConn()
	if err != nil {
		return false, nil
	}
	file, err := f.SyscallConn()
	if err != nil {
		return false, nil
	}
	var off int64
	var werr, serr error
	// Control holds the file open until it returns, even if the cache
	// closes it meanwhile.
	cerr := file.Control(func(ffd uintptr) {
		sent = true
		werr = conn.Write(func(sfd uintptr) bool {
			for len(head) > 0 || off < size {
				var n int
				var err error
				if len(head) > 0 {
					n, err = unix.SendmsgN(int(sfd), head, nil, nil, unix.MSG_MORE)
				} else {
					n, err = unix.Sendfile(int(sfd), int(ffd), &off, int(size-off))
				}
				switch {
				case errors.Is(err, unix.EINTR):
					continue
				case errors.Is(err, unix.EAGAIN):
					return false // called again once c is writable
				case err != nil:
					serr = err
					return true
				case n == 0 && len(head) == 0:
					serr = io.ErrUnexpectedEOF // the file is shorter than size
					return true
				}
				if len(head) > 0 {
					head = head[n:]
				}
			}
			return true
		}) // a deadline's error, or nil
		if werr == nil {
			werr = serr
		}
	})
	if cerr != nil {
		return false, nil
	}
	return true, werr
}
