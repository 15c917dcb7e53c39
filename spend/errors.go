package spend

import "errors"

// Errors returned by the package, gathered in one place so callers branch
// on them with errors.Is.
var (
	// ErrLocked is returned by Open when another process (or another Open
	// in this process) holds the ledger file and did not let go within
	// Options.LockTimeout. The error also wraps bbolt's ErrTimeout.
	ErrLocked = errors.New("spend: ledger file is locked by another process")

	// ErrClosed is returned by Flush after Close.
	ErrClosed = errors.New("spend: ledger closed")

	// ErrNewerFormat is returned by Open for a ledger file written by a
	// newer Detour, in a format this one does not know. The file is left
	// as it is.
	ErrNewerFormat = errors.New("spend: ledger file is from a newer Detour")
)
