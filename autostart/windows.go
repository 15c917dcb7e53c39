//go:build windows

package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

const (
	// runKey lists the programs Windows starts when the user logs in.
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedKey holds the on/off switch of Task Manager's Startup tab
	// for runKey's values: binary data whose first byte is odd when off.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Windows is a value in the current user's Run registry key,
// HKCU\Software\Microsoft\Windows\CurrentVersion\Run.
type Windows struct {
	// Name is the value's name.
	Name string
	// Exec is the absolute path of the program to start.
	Exec string
	// Args are the program's arguments.
	Args []string
}

// Supported reports true: the Run key exists on every Windows.
func (w *Windows) Supported() bool { return true }

// Enabled reports whether the Run value exists and Task Manager has not
// switched it off.
func (w *Windows) Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(w.Name); errors.Is(err, registry.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read HKCU\\%s\\%s: %w", runKey, w.Name, err)
	}
	a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return true, nil // no switch: on
	}
	defer a.Close()
	if v, _, err := a.GetBinaryValue(w.Name); err == nil && len(v) > 0 && v[0]%2 == 1 {
		return false, nil
	}
	return true, nil
}

// SetEnabled writes or deletes the Run value. Enabling also clears a
// Task Manager switch that had turned it off.
func (w *Windows) SetEnabled(on bool) error {
	if on {
		if err := checkExec(w.Exec); err != nil {
			return err
		}
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if !on {
		if err := k.DeleteValue(w.Name); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("delete HKCU\\%s\\%s: %w", runKey, w.Name, err)
		}
		return nil
	}
	cmd := windows.ComposeCommandLine(append([]string{w.Exec}, w.Args...))
	if err := k.SetStringValue(w.Name, cmd); err != nil {
		return fmt.Errorf("write HKCU\\%s\\%s: %w", runKey, w.Name, err)
	}
	if a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.SET_VALUE); err == nil {
		defer a.Close()
		if err := a.DeleteValue(w.Name); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("clear the Task Manager switch for %s: %w", w.Name, err)
		}
	}
	return nil
}
