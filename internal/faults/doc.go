// Package faults is the fault layer the delivery lab and the tests share: small
// injectors, composed and seeded, so that a scenario that broke something can be run
// again and break it the same way.
//
// # Network: Proxy and ClusterProxy
//
// A Proxy is a Kafka-aware TCP proxy in front of one broker listener. It reads whole
// frames, remembers each request's API key and version by correlation id, and asks its
// Rule for a verdict on every frame (a Frame: direction, API key, version, connection):
//
//   - Pass forwards it;
//   - Drop swallows it and cuts the connection (a dropped response is the lost ack);
//   - Cut closes the connection instead of forwarding it;
//   - BlackHole swallows it and everything after it on that connection in that
//     direction, leaving the connection open so the peer learns only by its timeout;
//   - Delay forwards it late, keeping the connection's order.
//
// Rules are built from a direction, an API key (AnyKey for all) and a Selector that
// picks which matching frames are hit: Nth, Every, Always, or Probability with a seed.
// DropRequests, DropResponses, CutConnections, BlackHoleFrames and DelayFrames build
// them; Rules combines them, first verdict wins. A proxy judges frames one at a time,
// so a rule needs no more than the order of frames to be replayable.
//
// Pause holds every frame in both directions, and new connections, with the connections
// open — a paused broker as the network sees it — and Resume delivers what was held in
// order. CutAll severs every connection; SetTarget points later connections at a broker
// that moved. Observe shows every judged frame, with its bytes, to a callback (the web
// simulator decodes Produce requests from it with DecodeRequest); Stats counts
// connections, verdicts and requests per API key.
//
// Brokers are advertised through the proxies: Metadata, FindCoordinator and
// DescribeCluster responses, and the new-leader hints of Produce and Fetch responses, are
// rewritten, so clients never bypass them. A lone Proxy
// maps every broker to itself; a ClusterProxy starts one Proxy per broker learnt from
// Metadata and maps each node id to its own proxy, so faults can also be aimed at one
// broker (ClusterProxy.Proxy).
//
// # Crashes: Node and ProcessNode
//
// A Node is an in-process Waybill broker on a vfs.MemFS behind its own Proxy, so its
// address survives restarts. Crash restarts it on MemFS.Clone (a process crash: every
// byte written survives in the page cache), PowerLoss on MemFS.CrashClone (only what
// was fsynced survives). The network is cut before the image is taken, so no client
// hears an acknowledgement for data the restarted broker lacks. The metadata quorum
// lives on the real disk and fsyncs, so it survives both.
//
// A ProcessNode is the waybill binary as a child process on fixed ports behind a Proxy:
// Kill is kill -9, Start restarts it on the same directory and ports, Pause and Resume
// are SIGSTOP and SIGCONT.
//
// A ProcessCluster is ProcessNodes forming one cluster, their proxies advertising each
// other: Kill is kill -9 of one node, Stop its SIGTERM (a controlled shutdown), Start
// brings it back; Partitions and Controller read the metadata the nodes agree on, and
// ReplicaLogs, once every node is stopped, what each replica holds on disk, for
// CompareReplicaLogs.
package faults
