import NIOCore

/// What a connection reads: a whole line (without `\n` or `\r\n`), or word that a line was longer
/// than the limit and was dropped.
public enum InboundFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLong(bytes: Int)
}

/// Splits the byte stream into lines. Lines are cut on bytes, so a character split across TCP
/// reads arrives whole; a line over `maxLength` bytes is skipped up to its newline and reported
/// once, and never buffered beyond the limit.
struct LineFramer: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    let maxLength: Int
    /// Bytes of an over-long line skipped so far (until its newline arrives).
    private var skipping: Int?
    /// How far the current buffer has been searched for a newline.
    private var searched = 0

    init(maxLength: Int) { self.maxLength = maxLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let from = view.startIndex + searched
        guard let newline = view[from...].firstIndex(of: 0x0A) else {
            searched = view.count
            if view.count > maxLength {
                // Keep nothing of an over-long line: count it and drop what has come so far.
                skipping = (skipping ?? 0) + view.count
                buffer.moveReaderIndex(forwardBy: view.count)
                searched = 0
            }
            return .needMoreData
        }
        searched = 0
        let length = newline - view.startIndex
        if let skipped = skipping {
            skipping = nil
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(Self.wrapInboundOut(.tooLong(bytes: skipped + length)))
            return .continue
        }
        if length > maxLength {
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(Self.wrapInboundOut(.tooLong(bytes: length)))
            return .continue
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == 0x0D {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without a newline still counts.
        if let skipped = skipping {
            skipping = nil
            context.fireChannelRead(Self.wrapInboundOut(.tooLong(bytes: skipped + buffer.readableBytes)))
        } else if buffer.readableBytes > 0 {
            var line = buffer.readSlice(length: buffer.readableBytes)!
            if line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
            context.fireChannelRead(Self.wrapInboundOut(.line(line)))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        searched = 0
        return .needMoreData
    }
}

/// Turns a received line into text the bot can read, or says why it cannot.
enum LineText {
    enum Problem: Error, Equatable { case invalidUTF8 }

    /// Valid UTF-8 only (a bad byte is refused, not guessed at). Control characters become
    /// spaces, except that a line of nothing but them is empty.
    static func decode(_ buffer: ByteBuffer) -> Result<String, Problem> {
        let text: String? = buffer.withUnsafeReadableBytes { raw in
            String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self)
        }
        guard let text else { return .failure(.invalidUTF8) }
        let needsCleaning = buffer.readableBytesView.contains { $0 < 0x20 || $0 == 0x7F }
            || text.unicodeScalars.contains { (0x80...0x9F).contains($0.value) }
        guard needsCleaning else { return .success(text) }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            scalars.append(v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) ? " " : scalar)
        }
        return .success(String(scalars))
    }
}
