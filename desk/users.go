package desk

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
)

// UsersFile is where the desk's accounts live in the data folder.
const UsersFile = "users.json"

// User is one account of the desk. Only the argon2id hash of the password
// is kept, never the password.
type User struct {
	Name    string    `json:"name"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

// Users is the accounts file, DIR/users.json.
type Users struct {
	Path string
}

type usersFile struct {
	Users []User `json:"users"`
}

var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// CheckUserName says what is wrong with an account name.
func CheckUserName(name string) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("user name %q must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// MinPassword is the shortest password the desk accepts.
const MinPassword = 10

// List returns the accounts; none when the file does not exist yet.
func (u Users) List() ([]User, error) {
	b, err := os.ReadFile(u.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the desk's accounts: %w", err)
	}
	var f usersFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("cannot read %s (fix or remove it, then `prodcast user add NAME` again): %w", u.Path, err)
	}
	return f.Users, nil
}

// Add creates the account, or sets a new password for it.
func (u Users) Add(name, password string) error {
	if err := CheckUserName(name); err != nil {
		return err
	}
	if len(password) < MinPassword {
		return fmt.Errorf("the password must have at least %d characters", MinPassword)
	}
	if len(password) > 1024 {
		return errors.New("the password must have at most 1024 characters")
	}
	hash, err := argon2id.CreateHash(password, argon2id.DefaultParams)
	if err != nil {
		return fmt.Errorf("cannot hash the password: %w", err)
	}
	users, err := u.List()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(users, func(x User) bool { return x.Name == name })
	if i < 0 {
		users = append(users, User{Name: name, Hash: hash, Created: time.Now().UTC().Truncate(time.Second)})
	} else {
		users[i].Hash = hash
	}
	return u.save(users)
}

// Remove deletes the account; it is an error if there is none.
func (u Users) Remove(name string) error {
	users, err := u.List()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(users, func(x User) bool { return x.Name == name })
	if i < 0 {
		return fmt.Errorf("there is no user %q (see %s)", name, u.Path)
	}
	return u.save(slices.Delete(users, i, i+1))
}

// Verify reports whether name and password match an account. It takes as
// long for an unknown name as for a wrong password.
func (u Users) Verify(name, password string) (bool, error) {
	users, err := u.List()
	if err != nil {
		return false, err
	}
	hash := dummyHash()
	if i := slices.IndexFunc(users, func(x User) bool { return x.Name == name }); i >= 0 {
		hash = users[i].Hash
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("cannot check the password of %q: %w", name, err)
	}
	return ok && hash != dummyHash(), nil
}

// dummyHash is compared against when the name is unknown, so that a wrong
// name is not told apart from a wrong password by the time it takes.
var dummyHash = sync.OnceValue(func() string {
	h, err := argon2id.CreateHash("no such user: the password of nobody", argon2id.DefaultParams)
	if err != nil {
		panic(err)
	}
	return h
})

// save writes the file atomically, readable by its owner only.
func (u Users) save(users []User) error {
	b, err := json.MarshalIndent(usersFile{Users: users}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(u.Path), 0o755); err != nil {
		return fmt.Errorf("cannot create the data folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(u.Path), ".users-*.json")
	if err != nil {
		return fmt.Errorf("cannot write the desk's accounts: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write the desk's accounts: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), u.Path); err != nil {
		return fmt.Errorf("cannot write the desk's accounts: %w", err)
	}
	return nil
}
