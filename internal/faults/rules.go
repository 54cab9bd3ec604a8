package faults

import "sync"

// DropEvery drops every every-th frame of apiKey in dir (the every-th, the 2·every-th, …),
// at most limit of them; later frames pass. Each drop cuts its connection, so a client
// that retries does so on a new connection without learning what became of the request.
func DropEvery(dir Direction, apiKey int16, every, limit int) Rule {
	var mu sync.Mutex
	seen, dropped := 0, 0
	return func(d Direction, k int16) Action {
		if d != dir || k != apiKey || every <= 0 {
			return Pass
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen%every == 0 && dropped < limit {
			dropped++
			return Drop
		}
		return Pass
	}
}
