package faults

import "time"

// match is a rule that gives act to the frames in dir of apiKey (AnyKey: all) that sel
// picks. The selector is asked only about matching frames, so its counts are counts of
// those.
func match(dir Direction, apiKey int16, sel Selector, act Action) Rule {
	if sel == nil {
		sel = Always()
	}
	return func(f Frame) Action {
		if f.Dir != dir || (apiKey != AnyKey && f.APIKey != apiKey) || !sel() {
			return Action{}
		}
		return act
	}
}

// DropRequests drops the requests of apiKey that sel picks: they never reach the broker,
// and their connection is cut.
func DropRequests(apiKey int16, sel Selector) Rule {
	return match(ToBroker, apiKey, sel, Do(Drop))
}

// DropResponses drops the responses to requests of apiKey that sel picks and cuts their
// connection: the lost ack, the broker did the work and the client cannot know.
func DropResponses(apiKey int16, sel Selector) Rule {
	return match(ToClient, apiKey, sel, Do(Drop))
}

// CutConnections closes the connection when sel picks a frame of apiKey in dir, instead
// of forwarding it.
func CutConnections(dir Direction, apiKey int16, sel Selector) Rule {
	return match(dir, apiKey, sel, Do(Cut))
}

// BlackHoleFrames swallows the frame of apiKey in dir that sel picks and every later frame
// of that connection in that direction, keeping the connection open.
func BlackHoleFrames(dir Direction, apiKey int16, sel Selector) Rule {
	return match(dir, apiKey, sel, Do(BlackHole))
}

// DelayFrames forwards the frames of apiKey in dir that sel picks d late, and the frames
// behind them on their connection no earlier.
func DelayFrames(dir Direction, apiKey int16, d time.Duration, sel Selector) Rule {
	return match(dir, apiKey, sel, DelayBy(d))
}
