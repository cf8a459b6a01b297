package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// credentials is what login stores: an API token for one server. It is
// a secret: the file is 0600 in a 0700 directory.
type credentials struct {
	Server   string `json:"server"`
	Token    string `json:"token"`
	TokenID  string `json:"token_id,omitempty"` // to revoke it at logout
	UserID   string `json:"user_id,omitempty"`
	Username string `json:"username,omitempty"`
}

// credentialsPath is GATEHOUSE_CONFIG_DIR/credentials, by default
// ~/.config/gatehouse/credentials (the user's configuration directory).
func (a *app) credentialsPath() (string, error) {
	dir := a.env.Getenv("GATEHOUSE_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no configuration directory to keep the credentials in (%v); set GATEHOUSE_CONFIG_DIR or use --token", err)
		}
		dir = filepath.Join(base, "gatehouse")
	}
	return filepath.Join(dir, "credentials"), nil
}

// loadCredentials reads the stored credentials; nil when there are none.
func (a *app) loadCredentials() (*credentials, error) {
	p, err := a.credentialsPath()
	if err != nil {
		// Without a configuration directory, flags and the environment
		// still work.
		return nil, nil
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the credentials: %w", err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("the credentials file %s is damaged (%v); run gatehouse logout, then gatehouse login", p, err)
	}
	return &c, nil
}

// saveCredentials writes the credentials, readable by the user only. It
// writes a temporary file and renames it, so that a crash leaves the old
// file or the new one, never half of one.
func (a *app) saveCredentials(c credentials) (string, error) {
	p, err := a.credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("saving the credentials: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".credentials-*")
	if err != nil {
		return "", fmt.Errorf("saving the credentials: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	// CreateTemp makes the file 0600 already; say so for other systems.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("saving the credentials: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("saving the credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("saving the credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("saving the credentials: %w", err)
	}
	return p, nil
}

// removeCredentials deletes the stored credentials (none is not an error).
func (a *app) removeCredentials() error {
	p, err := a.credentialsPath()
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the credentials: %w", err)
	}
	return nil
}
