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
    // Non-blocking, so that a named pipe put in the file's place after it was checked cannot
    // block the open; it is then refused by the check below (regular files ignore the flag).
    descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else {
      throw MediaError(.unreadable, path: path, "cannot be opened (\(String(cString: strerror(errno))))")
    }
    var status = stat()
    guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
      close(descriptor)
      let kind = Self.kind(mode: status.st_mode) ?? "not a regular file"
      throw MediaError(.unreadable, path: path, "is \(kind), not a regular file; lrj reads exhibits from regular files only")
    }
    self.size = size
    self.observer = observer
  }

  deinit { close(descriptor) }

  /// What `path` is when it is not a regular file ("a named pipe (FIFO)", "a socket"…), following
  /// symbolic links; nil for a regular file or when it cannot be examined (the open then says why).
  static func nonRegularKind(path: String) -> String? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return kind(mode: status.st_mode)
  }

  /// The kind of file of a `st_mode`, in words, or nil for a regular file.
  static func kind(mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: nil
    case S_IFDIR: "a directory"
    case S_IFIFO: "a named pipe (FIFO)"
    case S_IFSOCK: "a socket"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFLNK: "a symbolic link"
    default: "a special file"
    }
  }

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
