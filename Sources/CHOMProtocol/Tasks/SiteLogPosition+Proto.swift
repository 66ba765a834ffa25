package import CHOMCore

/// The one conversion between a site log position and its wire form (`SiteLogPosition` in
/// tasks.proto), used by the agent that hands positions out and the coordinator that sends them back.
extension Chom_Agent_V1_SiteLogPosition {
    package init(_ position: SiteLogPosition) {
        self.init()
        device = position.device
        inode = position.inode
        offset = position.offset
    }

    package var position: SiteLogPosition { SiteLogPosition(device: device, inode: inode, offset: offset) }
}
