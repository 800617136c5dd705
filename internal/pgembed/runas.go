package pgembed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUser is the OS account PostgreSQL runs as. PostgreSQL refuses to run
// as root, so a root service hands the server to an unprivileged account; a
// non-root service runs the server as itself (cred == nil).
type serverUser struct {
	name string
	uid  uint32
	gid  uint32
	// groups are all group IDs of the account, primary included.
	groups []uint32
	// cred switches a child process to the account; nil means no switch.
	cred *syscall.Credential
}

// currentServerUser describes the calling process as the server account.
func currentServerUser() *serverUser {
	u := &serverUser{name: "current user", uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
	if cur, err := user.Current(); err == nil {
		u.name = cur.Username
	}
	gids, _ := os.Getgroups()
	u.groups = append(u.groups, u.gid)
	for _, g := range gids {
		u.groups = append(u.groups, uint32(g))
	}
	return u
}

// lookupServerUser returns the unprivileged account a root service runs
// PostgreSQL as: "postgres" if it exists, else "nobody".
func lookupServerUser() (*serverUser, error) {
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return userFromAccount(u)
	}
	return nil, fmt.Errorf("find an unprivileged account to run PostgreSQL as (running as root): %w", errors.Join(errs...))
}

// userByUID returns the account with the given uid, used to keep running an
// existing cluster as the account that owns it.
func userByUID(uid uint32) (*serverUser, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil, fmt.Errorf("look up owner uid %d: %w", uid, err)
	}
	return userFromAccount(u)
}

// userFromAccount converts an account into a serverUser whose credential
// sets uid, gid and the account's own supplementary groups, so the server
// keeps none of root's groups.
func userFromAccount(u *user.User) (*serverUser, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of %s: %w", u.Username, err)
	}
	su := &serverUser{name: u.Username, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			g, err := strconv.ParseUint(id, 10, 32)
			if err == nil && uint32(g) != su.gid {
				su.groups = append(su.groups, uint32(g))
			}
		}
	}
	su.cred = &syscall.Credential{Uid: su.uid, Gid: su.gid, Groups: su.groups}
	return su, nil
}

// String names the account for messages.
func (u *serverUser) String() string {
	return fmt.Sprintf("%s (uid %d)", u.name, u.uid)
}

// canTraverse reports whether the account may search (pass through) dir,
// applying the owner, group or other execute bit as the kernel does.
func (u *serverUser) canTraverse(dir string) (bool, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true, nil
	}
	perm := fi.Mode().Perm()
	switch {
	case u.uid == 0:
		return true, nil
	case st.Uid == u.uid:
		return perm&0o100 != 0, nil
	case u.inGroup(st.Gid):
		return perm&0o010 != 0, nil
	default:
		return perm&0o001 != 0, nil
	}
}

// inGroup reports whether gid is one of the account's groups.
func (u *serverUser) inGroup(gid uint32) bool {
	for _, g := range u.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// blockingDir returns the first directory among dir and its ancestors that
// the account cannot pass through, or "" if the whole path is open to it.
func (u *serverUser) blockingDir(dir string) (string, error) {
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", dir, err)
	}
	var chain []string
	for d := resolved; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		ok, err := u.canTraverse(chain[i])
		if err != nil {
			return "", fmt.Errorf("check access to %s: %w", chain[i], err)
		}
		if !ok {
			return chain[i], nil
		}
	}
	return "", nil
}

// chownTree gives the account everything under root without following
// symbolic links. It is used only on directories this package created.
func (u *serverUser) chownTree(root string) error {
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(u.uid), int(u.gid))
	})
}

// ownerOf returns the uid that owns path.
func ownerOf(path string) (uint32, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("no ownership information for %s", path)
	}
	return st.Uid, nil
}
