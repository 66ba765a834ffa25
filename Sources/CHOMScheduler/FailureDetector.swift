/// How the leader decides that an agent has failed, from how long it has been silent: a value-type
/// state machine (online → suspect → offline, and back), pure, so every state × event is tested.
///
/// - An agent silent for longer than the heartbeat TTL is **suspect**: nothing moves yet, and the
///   scheduler places no new site on it.
/// - Suspect for `offlineGrace` seconds, and silent past TTL + grace, it is **offline**: the
///   failure the fleet acts on (its sites are restored elsewhere). The grace is counted from the
///   moment it became suspect, not only from its last heartbeat: after an outage of the
///   coordinators, every agent is silent past TTL + grace at once, and each still gets the grace
///   to reconnect. The detection delay is its silence when declared.
/// - Heard from again (a heartbeat within the TTL), it is **online** at once.
///
/// Hysteresis comes from the two thresholds: a blip shorter than TTL + grace makes an agent
/// suspect at most, never offline, so a short loss of link never fails a site over. The TTL grows
/// with the fleet, as Nomad's does, so that the heartbeats the coordinators must process stay
/// under `maxHeartbeatsPerSecond`: with N agents the TTL is at least N / that rate.
package struct FailureDetector: Sendable, Equatable {
    package struct Settings: Sendable, Equatable {
        /// Silence (seconds) after which an agent is suspect: a few missed heartbeats.
        package var heartbeatTTL: Double
        /// Further silence (seconds) once the TTL has passed before the agent is offline.
        package var offlineGrace: Double
        /// The heartbeat rate the fleet is sized for (Nomad caps it at 50/s).
        package var maxHeartbeatsPerSecond: Double

        package init(heartbeatTTL: Double, offlineGrace: Double, maxHeartbeatsPerSecond: Double = 50) {
            self.heartbeatTTL = heartbeatTTL
            self.offlineGrace = offlineGrace
            self.maxHeartbeatsPerSecond = maxHeartbeatsPerSecond
        }
    }

    /// What one observation of an agent found.
    package enum Event: Sendable, Equatable {
        /// Its last heartbeat was `silence` seconds ago, in a fleet of `fleetSize` agents; it has
        /// been suspect for `suspectFor` seconds (0 when it is not suspect).
        case observed(silence: Double, fleetSize: Int, suspectFor: Double = .infinity)
    }

    /// What the caller carries out.
    package enum Action: Sendable, Equatable {
        /// Store the new health (conditionally on the old one) and count the transition.
        case record(from: AgentHealth, to: AgentHealth)
        /// The agent is declared failed `detectionDelay` seconds after it was last heard from.
        case declareFailed(detectionDelay: Double)
        /// A suspect or failed agent is heard from again.
        case recovered
    }

    package let settings: Settings

    package init(_ settings: Settings) {
        self.settings = settings
    }

    /// The TTL for a fleet of `fleetSize` agents: the configured one, or longer for large fleets.
    package func ttl(fleetSize: Int) -> Double {
        let rate = settings.maxHeartbeatsPerSecond > 0 ? settings.maxHeartbeatsPerSecond : 50
        return max(settings.heartbeatTTL, Double(max(0, fleetSize)) / rate)
    }

    /// The silence after which an agent is offline in such a fleet.
    package func offlineAfter(fleetSize: Int) -> Double {
        ttl(fleetSize: fleetSize) + max(0, settings.offlineGrace)
    }

    /// The health an observation calls for, whatever the agent's current one.
    package func verdict(_ event: Event) -> AgentHealth {
        switch event {
        case .observed(let silence, let fleetSize, _):
            if silence <= ttl(fleetSize: fleetSize) { return .online }
            return silence > offlineAfter(fleetSize: fleetSize) ? .offline : .suspect
        }
    }

    /// The next health and what to do about it. An online agent passes through suspect: even an
    /// observation made long after its last heartbeat (a leader that just took over) first marks
    /// it suspect, and only the next observation, still silent, declares it offline.
    package func next(_ current: AgentHealth, _ event: Event) -> (health: AgentHealth, actions: [Action]) {
        let wanted = verdict(event)
        guard case .observed(let silence, _, let suspectFor) = event else { return (current, []) }
        switch (current, wanted) {
        case (.online, .online), (.suspect, .suspect), (.offline, .offline), (.offline, .suspect):
            // An offline agent stays offline until it is heard from within the TTL.
            return (current, [])
        case (.online, .suspect), (.online, .offline):
            return (.suspect, [.record(from: .online, to: .suspect)])
        case (.suspect, .offline):
            // The grace runs from the moment it became suspect.
            guard suspectFor >= max(0, settings.offlineGrace) else { return (current, []) }
            return (.offline, [.record(from: .suspect, to: .offline), .declareFailed(detectionDelay: silence)])
        case (.suspect, .online), (.offline, .online):
            return (.online, [.record(from: current, to: .online), .recovered])
        }
    }
}
