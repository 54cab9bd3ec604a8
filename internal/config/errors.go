package config

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Error is a rejected config or config operation. It unwraps to its Kafka error code
// (kerr.InvalidConfig for a bad name or value, kerr.InvalidRequest for a malformed
// request such as a duplicate name), so errors.Is(err, kerr.InvalidConfig) works.
type Error struct {
	Code    *kerr.Error
	Message string // names the config and what is allowed; fit for an error_message field
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the Kafka error code.
func (e *Error) Unwrap() error { return e.Code }

func invalidConfig(format string, args ...any) error {
	return &Error{Code: kerr.InvalidConfig, Message: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) error {
	return &Error{Code: kerr.InvalidRequest, Message: fmt.Sprintf(format, args...)}
}
