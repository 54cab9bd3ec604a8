package cluster

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// raftLogger adapts hashicorp's hclog interface (what raft logs through) to slog.
//
// Raft narrates every state transition at INFO and an election at WARN; for a node
// that routinely elects itself that is noise, so raft's INFO becomes slog DEBUG and
// the warnings of an ordinary election are demoted too. Real warnings and errors keep
// their level.
type raftLogger struct {
	logger  *slog.Logger
	name    string
	implied []any
}

var _ hclog.Logger = (*raftLogger)(nil)

func newRaftLogger(logger *slog.Logger) *raftLogger {
	return &raftLogger{logger: logger, name: "raft"}
}

// routineWarnings are WARN messages that a healthy election produces.
var routineWarnings = map[string]bool{
	"heartbeat timeout reached, starting election": true,
	"failed to get previous log":                   true, // first start, empty log
}

// unreachablePeer are the ERRORs raft repeats, every few hundred milliseconds, while a
// peer is down. The controller fences that broker and says so once; these go to DEBUG.
var unreachablePeer = map[string]bool{
	"failed to heartbeat to":         true,
	"failed to appendEntries to":     true,
	"failed to make requestVote RPC": true,
	// A pipelined connection to a peer that went away (restarted, cut off, shut down).
	"failed to pipeline appendEntries":  true,
	"failed to decode incoming command": true, // a peer's connection reset as it died
	"failed to flush response":          true, // the asking peer went away meanwhile
}

func (l *raftLogger) slogLevel(level hclog.Level, msg string) slog.Level {
	switch {
	case level <= hclog.Debug:
		return slog.LevelDebug - 4 // below DEBUG: raft's own debug output is very chatty
	case level == hclog.Info:
		return slog.LevelDebug
	case level == hclog.Warn && routineWarnings[msg], unreachablePeer[msg]:
		return slog.LevelDebug
	case level == hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (l *raftLogger) Log(level hclog.Level, msg string, args ...any) {
	lvl := l.slogLevel(level, msg)
	ctx := context.Background()
	if !l.logger.Enabled(ctx, lvl) {
		return
	}
	attrs := append([]any{"component", l.name}, l.implied...)
	l.logger.Log(ctx, lvl, msg, append(attrs, args...)...)
}

func (l *raftLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *raftLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *raftLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *raftLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *raftLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *raftLogger) enabled(level hclog.Level) bool {
	return l.logger.Enabled(context.Background(), l.slogLevel(level, ""))
}

func (l *raftLogger) IsTrace() bool { return l.enabled(hclog.Trace) }
func (l *raftLogger) IsDebug() bool { return l.enabled(hclog.Debug) }
func (l *raftLogger) IsInfo() bool  { return l.enabled(hclog.Info) }
func (l *raftLogger) IsWarn() bool  { return l.enabled(hclog.Warn) }
func (l *raftLogger) IsError() bool { return l.enabled(hclog.Error) }

func (l *raftLogger) ImpliedArgs() []any { return l.implied }

func (l *raftLogger) With(args ...any) hclog.Logger {
	c := *l
	c.implied = append(append([]any(nil), l.implied...), args...)
	return &c
}

func (l *raftLogger) Name() string { return l.name }

func (l *raftLogger) Named(name string) hclog.Logger {
	c := *l
	c.name = l.name + "." + name
	return &c
}

func (l *raftLogger) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	return &c
}

// SetLevel is ignored: the slog handler decides what is shown.
func (l *raftLogger) SetLevel(hclog.Level) {}

func (l *raftLogger) GetLevel() hclog.Level {
	switch {
	case l.IsTrace():
		return hclog.Trace
	case l.IsInfo():
		return hclog.Info
	case l.IsWarn():
		return hclog.Warn
	}
	return hclog.Error
}

func (l *raftLogger) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(l.logger.Handler(), slog.LevelDebug)
}

func (l *raftLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return l.StandardLogger(opts).Writer()
}
