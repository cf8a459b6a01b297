package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Store keeps documents' bodies by folder id and document name. Names
// are checked (validName) before they reach it. It knows nothing of
// permissions: the server asks Gatehouse first.
type Store interface {
	Get(folderID, name string) ([]byte, bool, error)
	// Put stores a body and reports whether the document is new.
	Put(folderID, name string, body []byte) (created bool, err error)
	Delete(folderID, name string) (bool, error)
	List(folderID string) ([]string, error)
}

// memStore keeps documents in memory: they are lost when the server stops.
type memStore struct {
	mu   sync.RWMutex
	docs map[string]map[string][]byte
}

func newMemStore() *memStore { return &memStore{docs: map[string]map[string][]byte{}} }

func (m *memStore) Get(folderID, name string) ([]byte, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.docs[folderID][name]
	return b, ok, nil
}

func (m *memStore) Put(folderID, name string, body []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.docs[folderID] == nil {
		m.docs[folderID] = map[string][]byte{}
	}
	_, existed := m.docs[folderID][name]
	m.docs[folderID][name] = slices.Clone(body)
	return !existed, nil
}

func (m *memStore) Delete(folderID, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.docs[folderID][name]
	delete(m.docs[folderID], name)
	return ok, nil
}

func (m *memStore) List(folderID string) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := []string{}
	for n := range m.docs[folderID] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// dirStore keeps documents as files, dir/<folder id>/<name>, so that
// they survive a restart; renaming a folder in Gatehouse keeps its id.
type dirStore struct {
	dir string
	mu  sync.Mutex // orders a Put's "did it exist" with its write
}

func newDirStore(dir string) (*dirStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return &dirStore{dir: dir}, nil
}

func (d *dirStore) path(folderID, name string) string {
	return filepath.Join(d.dir, filepath.Base(folderID), filepath.Base(name))
}

func (d *dirStore) Get(folderID, name string) ([]byte, bool, error) {
	b, err := os.ReadFile(d.path(folderID, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (d *dirStore) Put(folderID, name string, body []byte) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.path(folderID, name)
	_, err := os.Stat(p)
	created := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return false, err
	}
	// Write a temporary file and rename it, so that a reader never sees
	// half a document. Its name starts with a dot, which no document's
	// may (validName), so it never clashes with one or shows in List.
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp")
	if err := os.WriteFile(tmp, body, 0o640); err != nil {
		return false, err
	}
	return created, os.Rename(tmp, p)
}

func (d *dirStore) Delete(folderID, name string) (bool, error) {
	err := os.Remove(d.path(folderID, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (d *dirStore) List(folderID string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(d.dir, filepath.Base(folderID)))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && validName(n) {
			names = append(names, n)
		}
	}
	return names, nil
}
