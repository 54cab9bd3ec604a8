package peer

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeResponse feeds arbitrary response frames to the peer client's
// decoder, for every request kind it sends: errors are fine, panics are not.
func FuzzDecodeResponse(f *testing.F) {
	heartbeat := kmsg.NewPtrBrokerHeartbeatResponse()
	heartbeat.Version, heartbeat.IsCaughtUp = 1, true
	frame := binary.BigEndian.AppendUint32(nil, 7)
	frame = append(frame, 0) // no header tags
	f.Add(heartbeat.AppendTo(frame), int16(kmsg.BrokerHeartbeat), int16(1))
	f.Add([]byte{0, 0, 0, 7}, int16(kmsg.ApiVersions), int16(3))
	f.Add([]byte{}, int16(kmsg.CreateTopics), int16(7))
	f.Fuzz(func(t *testing.T, frame []byte, key, version int16) {
		var req kmsg.Request
		switch kmsg.Key(key) {
		case kmsg.ApiVersions:
			req = kmsg.NewPtrApiVersionsRequest()
		case kmsg.BrokerRegistration:
			req = kmsg.NewPtrBrokerRegistrationRequest()
		case kmsg.BrokerHeartbeat:
			req = kmsg.NewPtrBrokerHeartbeatRequest()
		case kmsg.AllocateProducerIDs:
			req = kmsg.NewPtrAllocateProducerIDsRequest()
		case kmsg.DescribeQuorum:
			req = kmsg.NewPtrDescribeQuorumRequest()
		default:
			req = kmsg.NewPtrCreateTopicsRequest()
		}
		req.SetVersion(max(0, min(version, req.MaxVersion())))
		_, _ = DecodeResponse(frame, req, 7)
	})
}
