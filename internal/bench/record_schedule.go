package bench

import "time"

// recordSchedule is one client's share of the open-loop schedule: a record every
// interval from next, until end or until budget records are sent.
type recordSchedule struct {
	next     time.Time
	interval time.Duration
	budget   int64 // records left when byCount
	end      time.Time
	byCount  bool
}

// newRecordSchedule is client i of n's schedule: w.RateMBps split evenly, the clients
// staggered by a fraction of an interval, w.Records split as evenly as it goes.
func newRecordSchedule(w Workload, start time.Time, i, n int) *recordSchedule {
	interval := time.Duration(float64(time.Second) * float64(n) / w.recordsPerSecond())
	s := &recordSchedule{
		next:     start.Add(interval * time.Duration(i) / time.Duration(n)),
		interval: interval,
		end:      start.Add(w.Duration),
		byCount:  w.Records > 0,
	}
	if s.byCount {
		s.budget = w.Records / int64(n)
		if int64(i) < w.Records%int64(n) {
			s.budget++
		}
	}
	return s
}

// sendDue sends every record due by now, each with its intended time, and reports
// whether the schedule has records left.
func (s *recordSchedule) sendDue(now time.Time, send func(intended time.Time)) bool {
	for !s.next.After(now) {
		if s.byCount && s.budget == 0 || !s.byCount && !s.next.Before(s.end) {
			return false
		}
		send(s.next)
		s.next = s.next.Add(s.interval)
		s.budget--
	}
	return true
}
