/// An element of an S3 XML answer: local name (namespace prefix dropped), the character
/// data directly inside it, and its child elements. Attributes are skipped: S3 puts no
/// data there.
public struct S3XMLElement: Sendable {
    public let name: String
    public internal(set) var text: String
    public internal(set) var children: [S3XMLElement]

    public func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }
    public func children(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }
    /// The text of the first child called `name`.
    public func value(_ name: String) -> String? { child(name)?.text }
}

public struct S3XMLError: Error, CustomStringConvertible {
    public let description: String
}

/// A small XML reader for S3's answers, total over any bytes: it throws on what it cannot
/// read and never traps (every index is checked, nesting is bounded, no DTDs).
public enum S3XMLReader {
    static let maxDepth = 64

    public static func parse(_ bytes: [UInt8]) throws -> S3XMLElement {
        var cursor = Cursor(bytes: bytes)
        var open: [(qualifiedName: [UInt8], element: S3XMLElement)] = []
        var root: S3XMLElement?
        while cursor.index < bytes.count {
            guard cursor.peek() == UInt8(ascii: "<") else {
                let text = try cursor.text()
                if open.isEmpty {
                    guard text.allSatisfy(\.isWhitespace) else { throw S3XMLError(description: "text outside the root element") }
                } else {
                    open[open.count - 1].element.text += text
                }
                continue
            }
            if cursor.skip("<?") {
                try cursor.skip(past: "?>")
            } else if cursor.skip("<!--") {
                try cursor.skip(past: "-->")
            } else if cursor.skip("<![CDATA[") {
                let text = try cursor.take(until: "]]>")
                guard !open.isEmpty else { throw S3XMLError(description: "CDATA outside the root element") }
                open[open.count - 1].element.text += String(decoding: text, as: UTF8.self)
            } else if cursor.skip("<!") {
                throw S3XMLError(description: "DTDs are not accepted")
            } else if cursor.skip("</") {
                let name = cursor.name()
                cursor.skipWhitespace()
                guard cursor.skip(">") else { throw S3XMLError(description: "malformed end tag") }
                guard let last = open.popLast(), last.qualifiedName == name else {
                    throw S3XMLError(description: "end tag does not match its start tag")
                }
                if open.isEmpty { root = last.element } else { open[open.count - 1].element.children.append(last.element) }
            } else {
                guard root == nil else { throw S3XMLError(description: "more than one root element") }
                _ = cursor.skip("<")
                let name = cursor.name()
                guard !name.isEmpty else { throw S3XMLError(description: "element without a name") }
                let selfClosing = try cursor.skipAttributes()
                let element = S3XMLElement(name: localName(name), text: "", children: [])
                if selfClosing {
                    if open.isEmpty { root = element } else { open[open.count - 1].element.children.append(element) }
                } else {
                    guard open.count < maxDepth else { throw S3XMLError(description: "nested too deeply") }
                    open.append((name, element))
                }
            }
        }
        guard open.isEmpty, let root else { throw S3XMLError(description: "incomplete document") }
        return root
    }

    private static func localName(_ qualified: [UInt8]) -> String {
        let local = qualified.lastIndex(of: UInt8(ascii: ":")).map { qualified[($0 + 1)...] } ?? qualified[...]
        return String(decoding: local, as: UTF8.self)
    }

    private struct Cursor {
        let bytes: [UInt8]
        var index = 0

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        func starts(with literal: String) -> Bool {
            var position = index
            for byte in literal.utf8 {
                guard position < bytes.count, bytes[position] == byte else { return false }
                position += 1
            }
            return true
        }

        mutating func skip(_ literal: String) -> Bool {
            guard starts(with: literal) else { return false }
            index += literal.utf8.count
            return true
        }

        mutating func take(until literal: String) throws -> ArraySlice<UInt8> {
            let start = index
            while index < bytes.count {
                if starts(with: literal) {
                    let taken = bytes[start..<index]
                    index += literal.utf8.count
                    return taken
                }
                index += 1
            }
            throw S3XMLError(description: "unterminated \(literal)")
        }

        mutating func skip(past literal: String) throws { _ = try take(until: literal) }

        mutating func skipWhitespace() {
            while let byte = peek(), isSpace(byte) { index += 1 }
        }

        mutating func name() -> [UInt8] {
            let start = index
            while let byte = peek(), !isSpace(byte), byte != UInt8(ascii: ">"), byte != UInt8(ascii: "/"),
                  byte != UInt8(ascii: "<"), byte != UInt8(ascii: "=") {
                index += 1
            }
            return Array(bytes[start..<index])
        }

        /// Skips to the end of a start tag; true when it was `/>`.
        mutating func skipAttributes() throws -> Bool {
            var quote: UInt8?
            while let byte = peek() {
                index += 1
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    return index >= 2 && bytes[index - 2] == UInt8(ascii: "/")
                } else if byte == UInt8(ascii: "<") {
                    break
                }
            }
            throw S3XMLError(description: "unterminated start tag")
        }

        /// Character data up to the next `<`, entities decoded.
        mutating func text() throws -> String {
            var out: [UInt8] = []
            while let byte = peek(), byte != UInt8(ascii: "<") {
                index += 1
                guard byte == UInt8(ascii: "&") else { out.append(byte); continue }
                let start = index
                while let next = peek(), next != UInt8(ascii: ";"), index - start < 10 { index += 1 }
                guard peek() == UInt8(ascii: ";") else { throw S3XMLError(description: "unterminated entity") }
                let entity = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                guard let scalar = Self.entity(entity) else { throw S3XMLError(description: "unknown entity &\(entity);") }
                out += Array(String(Character(scalar)).utf8)
            }
            return String(decoding: out, as: UTF8.self)
        }

        static func entity(_ name: String) -> Unicode.Scalar? {
            switch name {
            case "lt": return "<"
            case "gt": return ">"
            case "amp": return "&"
            case "quot": return "\""
            case "apos": return "'"
            default:
                guard name.hasPrefix("#") else { return nil }
                let digits = name.dropFirst()
                let number = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                return number.flatMap(Unicode.Scalar.init)
            }
        }

        private func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        }
    }
}
