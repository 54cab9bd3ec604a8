package cluster

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// UUID is a 16-byte id (topic ids, the cluster id, broker incarnations). It prints the
// way Kafka prints ids: 22 characters of unpadded base64url.
type UUID [16]byte

func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is the all-zero id, which Kafka uses for "no id".
func (u UUID) IsZero() bool { return u == UUID{} }

// MarshalText encodes u as its String form (used by the command and snapshot JSON).
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText decodes the String form.
func (u *UUID) UnmarshalText(text []byte) error {
	parsed, err := ParseUUID(string(text))
	if err != nil {
		return err
	}
	*u = parsed
	return nil
}

// ParseUUID decodes Kafka's 22-character base64url form.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != len(u) {
		return UUID{}, fmt.Errorf("cluster: invalid id %q: want 22 characters of base64url", s)
	}
	copy(u[:], b)
	return u, nil
}

// randomUUID returns a version 4 UUID. Like Kafka's Uuid.randomUuid it never returns
// the zero id nor one whose string form starts with '-', which command-line tools would
// take for a flag. It runs in proposers only: Apply must never call it.
func randomUUID() UUID {
	for {
		var u UUID
		_, _ = rand.Read(u[:])  // crypto/rand.Read never fails (Go 1.24+)
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
		if !u.IsZero() && !strings.HasPrefix(u.String(), "-") {
			return u
		}
	}
}
