package monitor

import (
	"context"
	"log/slog"
)

// SlogAlerts returns an AlertHook that logs each alert to l: info at
// Info, warning at Warn, critical at Error, with its identifiers, place
// and the evidence that applies as attributes. It never fails.
func SlogAlerts(l *slog.Logger) AlertHook {
	return func(ctx context.Context, a Alert) error {
		level := slog.LevelInfo
		switch a.Severity {
		case SeverityWarning:
			level = slog.LevelWarn
		case SeverityCritical:
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("alert", string(a.Kind)),
			slog.String("severity", a.Severity.String()),
			slog.String("user_id", a.UserID),
		}
		if a.IP != "" {
			attrs = append(attrs, slog.String("ip", a.IP))
		}
		if a.Place.Country != "" {
			attrs = append(attrs, slog.String("country", a.Place.Country))
		}
		if a.Place.Network != "" {
			attrs = append(attrs, slog.String("network", a.Place.Network))
		}
		ev := evidenceFields(a.Evidence)
		if len(ev) > 0 {
			args := make([]any, 0, len(ev))
			for _, f := range ev {
				args = append(args, slog.String(f.name, f.value))
			}
			attrs = append(attrs, slog.Group("evidence", args...))
		}
		l.LogAttrs(ctx, level, "mfa: alert "+string(a.Kind), attrs...)
		return nil
	}
}
