package durability_test

// deliveryAudit compares what producers were told with what a full read found.
type deliveryAudit struct {
	acked      int      // values acknowledged to the producer
	found      int      // distinct values read back
	extra      int      // distinct values read back that were not acknowledged
	missing    []string // acknowledged but not read back: lost
	duplicated []string // read back more than once
	copies     int      // occurrences beyond the first, over all duplicated values
}

func auditDelivery(acked map[string]bool, found map[string]int) deliveryAudit {
	a := deliveryAudit{acked: len(acked), found: len(found)}
	for v := range acked {
		if found[v] == 0 {
			a.missing = append(a.missing, v)
		}
	}
	for v, n := range found {
		if !acked[v] {
			a.extra++
		}
		if n > 1 {
			a.duplicated = append(a.duplicated, v)
			a.copies += n - 1
		}
	}
	return a
}

// firstFew keeps messages short when many values are listed.
func firstFew(values []string) []string {
	if len(values) > 5 {
		return values[:5]
	}
	return values
}
