extension Substring {
    /// The parts between each ASCII `separator` (`&`, `=`, `,`, `/`), found among the UTF-8
    /// bytes, with `split(separator:)`'s meaning; an ASCII byte never occurs inside another
    /// character's encoding. Splitting by Character instead breaks graphemes at every step:
    /// about 400 instructions a character, most of the cost of reading a 100-id query.
    func split(ascii separator: Unicode.Scalar, maxSplits: Int = .max,
               omittingEmptySubsequences: Bool = true) -> [Substring] {
        precondition(separator.isASCII, "an ASCII separator")
        let byte = UInt8(separator.value), utf8 = self.utf8
        var parts: [Substring] = []
        var partStart = startIndex, index = startIndex
        while index != utf8.endIndex, parts.count < maxSplits {
            if utf8[index] == byte {
                if !omittingEmptySubsequences || partStart != index { parts.append(self[partStart..<index]) }
                partStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if !omittingEmptySubsequences || partStart != endIndex { parts.append(self[partStart..<endIndex]) }
        return parts
    }
}

extension String {
    /// See `Substring.split(ascii:maxSplits:omittingEmptySubsequences:)`.
    func split(ascii separator: Unicode.Scalar, maxSplits: Int = .max,
               omittingEmptySubsequences: Bool = true) -> [Substring] {
        self[...].split(ascii: separator, maxSplits: maxSplits, omittingEmptySubsequences: omittingEmptySubsequences)
    }
}
