package bench

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestParseCaseFillsFromTheBase(t *testing.T) {
	base := DefaultWorkload().BaseCase() // rf=1, acks=all, idempotent
	for _, tc := range []struct {
		spec           string
		keepIdempotent bool
		want           string
	}{
		{"rf=3,acks=all,min-isr=2", false, "rf=3,acks=all,min-isr=2"},
		{"rf=3", false, "rf=3,acks=all"},
		{"acks=1,rf=3", false, "rf=3,acks=1"}, // idempotence follows acks
		{" replication-factor=2 , min.insync.replicas=2 ", false, "rf=2,acks=all,min-isr=2"},
		{"acks=all,idempotent=false", false, "rf=1,acks=all,idempotent=false"},
		{"acks=1", true, "rf=1,acks=1,idempotent=true"}, // --idempotent given: kept, Validate refuses it
	} {
		c, err := ParseCase(tc.spec, base, tc.keepIdempotent)
		if err != nil || c.Name() != tc.want {
			t.Errorf("ParseCase(%q) = %s, %v; want %s", tc.spec, c.Name(), err, tc.want)
		}
	}
	for _, spec := range []string{"rf", "rf=three", "replicas=3", "idempotent=maybe", "rf=40000"} {
		if c, err := ParseCase(spec, base, false); err == nil {
			t.Errorf("ParseCase(%q) = %s, want an error", spec, c.Name())
		}
	}
}

func TestWorkloadChecksCasesAgainstBrokers(t *testing.T) {
	w := DefaultWorkload()
	w.Cases = []Case{{ReplicationFactor: 1, Acks: "all", Idempotent: true}, {ReplicationFactor: 3, Acks: "1"}}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := w.checkBrokers(TargetCluster, 3); err != nil {
		t.Errorf("3 brokers: %v", err)
	}
	if err := w.checkBrokers(TargetExternal, 0); err != nil {
		t.Errorf("unknown number of brokers: %v", err)
	}
	err := w.checkBrokers(TargetCluster, 2)
	if err == nil || !strings.Contains(err.Error(), "case rf=3,acks=1: replication factor 3 needs at least 3 brokers") {
		t.Errorf("2 brokers: %v", err)
	}
}

func TestProcessCPUReadsThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	x := 0
	for i := range 50_000_000 { // some CPU time, so that a tick or more is counted
		x ^= i
	}
	_ = x
	d, err := processCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Errorf("processCPU(self) = %v, %v", d, err)
	}
}

func TestCaseComparisonRatiosAgainstTheFirstCase(t *testing.T) {
	r := &Report{
		Targets: []TargetInfo{{Name: "cluster"}},
		Cases:   []Case{{ReplicationFactor: 1, Acks: "all", Idempotent: true}, {ReplicationFactor: 3, Acks: "all", Idempotent: true, MinInsyncReplicas: 2}},
	}
	lat := &Latency{P50: 2, P99: 8}
	r.Results = []Result{
		{Target: "cluster", Phase: PhaseProduce, Case: "rf=1,acks=all", MBPerSec: 100, Latency: lat,
			BrokerCPU: &BrokerCPU{SecondsPerGB: 4}},
		{Target: "cluster", Phase: PhaseProduce, Case: "rf=3,acks=all,min-isr=2", MBPerSec: 50, Latency: lat,
			BrokerCPU: &BrokerCPU{SecondsPerGB: 12}},
		{Target: "cluster", Phase: PhaseProduceRate, TargetMBPerS: 20, Case: "rf=1,acks=all", MBPerSec: 20, Latency: lat},
		{Target: "cluster", Phase: PhaseProduceRate, TargetMBPerS: 20, Case: "rf=3,acks=all,min-isr=2", MBPerSec: 20,
			Latency: &Latency{P50: 3, P99: 30}},
	}
	var out bytes.Buffer
	if err := r.writeCaseComparison(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{
		{"produce", "rf=1,acks=all", "100.0", "1.00x", "2.00", "8.00", "4.00", "1.00x"},
		{"produce", "rf=3,acks=all,min-isr=2", "50.0", "0.50x", "2.00", "8.00", "12.00", "3.00x"},
		{"produce-rate", "@20", "rf=3,acks=all,min-isr=2", "20.0", "1.00x", "3.00", "30.00", "-", "-"},
	} {
		if !hasFields(out.String(), want) {
			t.Errorf("comparison lacks row %q:\n%s", want, out.String())
		}
	}
}

// hasFields reports whether some line of out is exactly these fields.
func hasFields(out string, fields []string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}
