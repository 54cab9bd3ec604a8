package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cliError is an error phrased for the person at the terminal: what failed, and when we
// know one, a one-line hint about what to try next. main prints it as "error: msg" with
// the hint on the following line.
type cliError struct {
	msg  string
	hint string
	err  error // the cause, kept for errors.Is in tests and callers
}

func (e *cliError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + "\nhint: " + e.hint
}

func (e *cliError) Unwrap() error { return e.err }

// kafkaHints maps the Kafka errors people actually run into from these tools to the next
// thing to try. The error name itself always comes from the broker's error code.
var kafkaHints = map[*kerr.Error]string{
	kerr.TopicAlreadyExists:           "choose another name, or delete the topic first with `waybill topic delete`",
	kerr.UnknownTopicOrPartition:      "check the name with `waybill topic list`, or create it with `waybill topic create`",
	kerr.UnknownTopicID:               "the topic was deleted or recreated; check `waybill topic list`",
	kerr.InvalidTopicException:        "topic names use letters, digits, '.', '_' and '-', at most 249 characters",
	kerr.InvalidReplicationFactor:     "replicas (-r) cannot exceed the number of live brokers",
	kerr.InvalidPartitions:            "partitions must be positive, and a topic's partition count can only grow",
	kerr.InvalidConfig:                "check the config name and value; Waybill uses Kafka's topic config names",
	kerr.InvalidRequest:               "the broker rejected the request as malformed for this operation",
	kerr.PolicyViolation:              "a broker policy rejected the change; the message above says which",
	kerr.TopicDeletionDisabled:        "the brokers run with delete.topic.enable=false",
	kerr.NonEmptyGroup:                "stop the group's consumers first; `waybill group describe` lists its members",
	kerr.GroupIDNotFound:              "check the name with `waybill group list`",
	kerr.UnknownMemberID:              "the group has active members; stop its consumers first",
	kerr.IllegalGeneration:            "the group has active members; stop its consumers first",
	kerr.RebalanceInProgress:          "the group is rebalancing; stop its consumers and retry",
	kerr.CoordinatorNotAvailable:      "the group coordinator is starting or moving; retry in a few seconds",
	kerr.NotCoordinator:               "the group coordinator moved; retry in a few seconds",
	kerr.CoordinatorLoadInProgress:    "the group coordinator is still loading; retry in a few seconds",
	kerr.NotEnoughReplicas:            "fewer in-sync replicas than min.insync.replicas; bring brokers back or produce with --acks 1",
	kerr.NotEnoughReplicasAfterAppend: "the ISR shrank below min.insync.replicas while writing; the record may or may not be stored",
	kerr.MessageTooLarge:              "the record exceeds max.message.bytes; raise it with `waybill topic alter-config` or send smaller records",
	kerr.RecordListTooLarge:           "the batch exceeds the broker's limit; lower --linger or send smaller records",
	kerr.TopicAuthorizationFailed:     "the client lacks a topic ACL for this; ask an administrator",
	kerr.GroupAuthorizationFailed:     "the client lacks a group ACL for this; ask an administrator",
	kerr.ClusterAuthorizationFailed:   "the client lacks a cluster ACL for this; ask an administrator",
	kerr.UnsupportedVersion:           "the broker does not implement this request (or this version of it)",
	kerr.InvalidProducerEpoch:         "another producer with the same transactional id fenced this one",
	kerr.OffsetOutOfRange:             "the offset is outside the partition; `waybill topic describe` shows log start and high watermark",
	kerr.PreferredLeaderNotAvailable:  "the preferred replica is down or not yet back in sync; `waybill topic describe` shows the ISR",
	kerr.EligibleLeadersNotAvailable:  "no replica of the partition is alive; start one of its brokers",
}

// kafkaErrName returns the Kafka error name (UNKNOWN_TOPIC_OR_PARTITION) of err, or "".
func kafkaErrName(err error) string {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return ke.Message
	}
	return ""
}

// errText is the one-line description of a per-item error: the Kafka name and
// description, plus the broker's own message when it sent one (it often names the bad
// config or the policy).
func errText(err error, brokerMessage string) string {
	text := err.Error()
	if brokerMessage != "" && !strings.Contains(text, brokerMessage) {
		text += " (" + brokerMessage + ")"
	}
	return text
}

// kafkaHint is the hint for a Kafka error, or "" for anything else.
func kafkaHint(err error) string {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return kafkaHints[ke]
	}
	return ""
}

// hint returns the next thing to try for err, or "" when we have nothing useful to say.
func (c *clientConfig) hint(err error) string {
	if _, ok := errors.AsType[*kerr.Error](err); ok {
		return kafkaHint(err)
	}
	brokers := strings.Join(c.seeds(), ",")
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), isDialError(err):
		return fmt.Sprintf("is a broker listening at %s? set --brokers or WAYBILL_BROKERS", brokers)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from %s within --request-timeout %s; is a broker running there? set --brokers or WAYBILL_BROKERS",
			brokers, c.requestTimeout)
	case errors.Is(err, kgo.ErrClientClosed), errors.Is(err, context.Canceled):
		return ""
	}
	return ""
}

func isDialError(err error) bool {
	opErr, ok := errors.AsType[*net.OpError](err)
	return ok && opErr.Op == "dial"
}

// explain attaches a hint to err unless it already carries one.
func (c *clientConfig) explain(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*cliError](err); ok {
		return err
	}
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "timed out: " + msg
	}
	return &cliError{msg: msg, hint: c.hint(err), err: err}
}

// itemFailures collects the per-item outcome of a command that acts on several names
// (topics, groups), so that every item is reported and the command still exits non-zero
// when any of them failed.
type itemFailures struct {
	action string // what was attempted, e.g. "create topic"
	tried  int
	failed []itemFailure
}

type itemFailure struct {
	name string
	text string
	err  error
}

// record notes one item's outcome and returns the status cell for the output table.
func (f *itemFailures) record(name string, err error, brokerMessage string) string {
	f.tried++
	if err == nil {
		return "OK"
	}
	text := errText(err, brokerMessage)
	f.failed = append(f.failed, itemFailure{name: name, text: text, err: err})
	return text
}

// asError is nil when every item succeeded; otherwise it names each failed item and
// carries the hints for the distinct errors seen.
func (f *itemFailures) asError(c *clientConfig) error {
	if len(f.failed) == 0 {
		return nil
	}
	var lines, hints []string
	seen := map[string]bool{}
	for _, item := range f.failed {
		lines = append(lines, fmt.Sprintf("%s %s: %s", f.action, item.name, item.text))
		if h := c.hint(item.err); h != "" && !seen[h] {
			seen[h] = true
			hints = append(hints, h)
		}
	}
	msg := strings.Join(lines, "\n")
	if f.tried > 1 {
		msg = fmt.Sprintf("%d of %d failed:\n%s", len(f.failed), f.tried, msg)
	}
	return &cliError{msg: msg, hint: strings.Join(hints, "; "), err: f.failed[0].err}
}

// itemResult is one named item's outcome as an admin call reports it.
type itemResult struct {
	err     error
	message string
}

// printItemResults prints a NAME/STATUS table of the outcome of acting on each name, in
// the order given, and fails if any item failed. The commands that act on several names
// at once (delete topics, delete groups) share it.
func printItemResults(cmd *cobra.Command, cfg *clientConfig, action, header string, names []string, results map[string]itemResult) error {
	failures := itemFailures{action: action}
	t := newTable(cmd.OutOrStdout(), header, "STATUS")
	for _, name := range names {
		r := results[name]
		t.row(name, failures.record(name, r.err, r.message))
	}
	if err := t.flush(); err != nil {
		return err
	}
	return failures.asError(cfg)
}
