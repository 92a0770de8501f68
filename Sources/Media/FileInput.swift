import CFFmpeg
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Reads a local file for FFmpeg through a custom AVIO context: no FFmpeg protocol (URL,
/// playlist, device) can ever be reached from an untrusted path, and every byte read can be shown
/// to an observer (used to hash an exhibit while it is decoded, in one read).
final class FileInput {
  /// Called with each block of bytes FFmpeg reads, and the file offset it starts at.
  typealias Observer = (_ offset: Int64, _ bytes: UnsafeRawBufferPointer) -> Void

  let size: Int64
  private let descriptor: Int32
  private var position: Int64 = 0
  private let observer: Observer?

  init(path: String, size: Int64, observer: Observer?) throws(MediaError) {
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw MediaError(.unreadable, path: path, "cannot be opened (\(String(cString: strerror(errno))))")
    }
    self.size = size
    self.observer = observer
  }

  deinit { close(descriptor) }

  /// FFmpeg's read_packet: bytes read, AVERROR_EOF at the end, a negative error otherwise.
  func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int32 {
    let got = pread(descriptor, buffer, count, off_t(position))
    if got < 0 { return lrj_averror(errno) }
    if got == 0 { return FFmpeg.eof }
    observer?(position, UnsafeRawBufferPointer(start: buffer, count: got))
    position += Int64(got)
    return Int32(got)
  }

  /// FFmpeg's seek: the new position, the size for AVSEEK_SIZE, a negative error otherwise.
  func seek(offset: Int64, whence: Int32) -> Int64 {
    if whence & AVSEEK_SIZE != 0 { return size }
    let target: Int64
    switch whence & ~AVSEEK_FORCE {
    case SEEK_SET: target = offset
    case SEEK_CUR: target = position + offset
    case SEEK_END: target = size + offset
    default: return Int64(lrj_averror(EINVAL))
    }
    guard target >= 0 else { return Int64(lrj_averror(EINVAL)) }
    position = target
    return target
  }

  /// An AVIO context reading through this input; the caller owns it (see `freeContext`).
  func makeContext() -> UnsafeMutablePointer<AVIOContext>? {
    let bufferSize: Int32 = 1 << 16
    guard let buffer = av_malloc(Int(bufferSize)) else { return nil }
    let opaque = Unmanaged.passUnretained(self).toOpaque()
    let context = avio_alloc_context(
      buffer.assumingMemoryBound(to: UInt8.self), bufferSize, 0, opaque,
      { opaque, buffer, size in
        Unmanaged<FileInput>.fromOpaque(opaque!).takeUnretainedValue().read(into: buffer!, count: Int(size))
      },
      nil,
      { opaque, offset, whence in
        Unmanaged<FileInput>.fromOpaque(opaque!).takeUnretainedValue().seek(offset: offset, whence: whence)
      })
    if context == nil { av_free(buffer) }
    return context
  }

  /// Frees an AVIO context made by `makeContext` and its buffer.
  static func freeContext(_ context: inout UnsafeMutablePointer<AVIOContext>?) {
    guard context != nil else { return }
    av_freep(&context!.pointee.buffer)
    avio_context_free(&context)
  }
}
