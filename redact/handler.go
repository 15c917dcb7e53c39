package redact

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler is a slog.Handler that removes secrets from every record's
// message and attribute values before passing it on, so no log line,
// whoever writes it, carries a key Detour used.
type Handler struct {
	next    slog.Handler
	secrets *Secrets
}

// NewHandler returns a Handler that redacts secrets and passes records to
// next.
func NewHandler(next slog.Handler, secrets *Secrets) *Handler {
	return &Handler{next: next, secrets: secrets}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h.secrets.Len() == 0 {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, h.secrets.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), secrets: h.secrets}
}

// attr returns a with secrets removed from its value. Values other than
// strings, errors, Stringers and groups (numbers, times, booleans) cannot
// hold a key and pass unchanged.
func (h *Handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.secrets.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.secrets.String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.secrets.String(x.String()))
		case []byte:
			return slog.String(a.Key, h.secrets.String(string(x)))
		default:
			return slog.String(a.Key, h.secrets.String(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
