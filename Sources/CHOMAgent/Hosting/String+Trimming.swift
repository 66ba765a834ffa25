extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last?.isNewline == true || text.last == " " { text.removeLast() }
        return text
    }
}
