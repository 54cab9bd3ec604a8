package cluster

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Error is a metadata operation refused with a Kafka error code. It unwraps to the
// code, so errors.Is(err, kerr.TopicAlreadyExists) works; Error() is a message fit for a
// response's error_message field.
type Error struct {
	Code    *kerr.Error
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the Kafka error code.
func (e *Error) Unwrap() error { return e.Code }

func errorf(code *kerr.Error, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
