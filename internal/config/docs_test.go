package config

import (
	"os"
	"strings"
	"testing"
)

// TestEveryConfigIsDocumented keeps docs/configuration.md in step with the definitions.
func TestEveryConfigIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(BrokerConfigNames(), TopicConfigNames()...) {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/configuration.md does not list %s", name)
		}
	}
}
