package cache

import "errors"

// Errors returned by the cache, gathered in one place so callers branch on
// them with errors.Is.
var (
	// ErrLocked is returned by Open when another process (or another Open
	// in this process) holds the cache file and did not let go within
	// Options.LockTimeout. The error Open returns also wraps bbolt's
	// ErrTimeout.
	ErrLocked = errors.New("cache: file is locked by another process")

	// ErrNotFound is returned by Get when there is no usable entry for the
	// key: none stored, expired (and stale entries not allowed), past the
	// stale window, or damaged.
	ErrNotFound = errors.New("cache: not found")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("cache: closed")
)
