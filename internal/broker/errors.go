package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
)

// errorCode maps an error from the layers below to the Kafka error code a client expects.
// Errors that wrap a *kerr.Error carry their code already.
func errorCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, wlog.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, partition.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	case errors.Is(err, partition.ErrStorage):
		return kerr.KafkaStorageError.Code
	default:
		return kerr.UnknownServerError.Code
	}
}

// errStop ends an iteration early; it never leaves the function that uses it.
var errStop = errors.New("stop")

// setErr fills a response's error code and message from err.
func setErr(code *int16, msg **string, err error) {
	*code = errorCode(err)
	m := err.Error()
	*msg = &m
}

// setError fills a response's error code and message.
func setError(code *int16, msg **string, ke *kerr.Error, text string) {
	*code = ke.Code
	*msg = &text
}

var errStaticBrokerConfigs = fmt.Errorf("%w: broker configs are static; set them with waybill serve --set or --config",
	kerr.InvalidRequest)
