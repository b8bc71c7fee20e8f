// Request-log spool (see core/log_spool.h).
#include "core/log_spool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace scanline {
namespace {

struct Segment {
  std::string path;
  int pid = 0;
  int64_t seq = 0;
  bool closed = false;
  int64_t size = 0;
};

std::vector<Segment> ListSegments(const std::string& dir) {
  std::vector<Segment> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    bool closed = name.ends_with(".closed");
    if (!closed && !name.ends_with(".open")) continue;
    Segment s;
    s.path = entry.path().string();
    s.closed = closed;
    if (std::sscanf(name.c_str(), "%d-%ld", &s.pid, &s.seq) != 2) continue;
    s.size = static_cast<int64_t>(entry.file_size(ec));
    out.push_back(s);
  }
  // Oldest first: seq is a microsecond time stamp.
  std::sort(out.begin(), out.end(),
            [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  return out;
}

bool WriterGone(const Segment& s) { return s.closed || (kill(s.pid, 0) != 0 && errno == ESRCH); }

int64_t CommittedOffset(const std::string& segment) {
  std::ifstream in(segment + ".offset");
  int64_t offset = 0;
  in >> offset;
  return offset;
}

void WriteOffset(const std::string& segment, int64_t offset) {
  std::string tmp = segment + ".offset.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << offset << "\n";
  }
  fs::rename(tmp, segment + ".offset");
}

int64_t NowUsForName() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

LogSpoolWriter::LogSpoolWriter(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!fs::is_directory(dir_)) {
    throw Error(ErrorCode::kServiceUnavailable, "the request log is unavailable",
                "cannot create spool directory " + dir_);
  }
}

LogSpoolWriter::~LogSpoolWriter() { Close(); }

void LogSpoolWriter::Open() {
  // A new time stamp per segment keeps names unique across pid reuse and orders segments.
  path_ = dir_ + "/" + std::to_string(getpid()) + "-" + std::to_string(NowUsForName()) + "-" +
          std::to_string(seq_++) + ".open";
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    throw Error(ErrorCode::kServiceUnavailable, "the request log is unavailable",
                "open " + path_ + ": " + std::strerror(errno));
  }
  written_ = 0;
}

void LogSpoolWriter::Close() {
  if (fd_ < 0) return;
  close(fd_);
  fd_ = -1;
  std::string closed = path_.substr(0, path_.size() - 5) + ".closed";
  std::error_code ec;
  fs::rename(path_, closed, ec);
  if (!ec && fs::exists(path_ + ".offset")) fs::rename(path_ + ".offset", closed + ".offset", ec);
}

int64_t LogSpoolWriter::Append(const RequestLogRecord& record) {
  if (fd_ < 0 || written_ >= kSegmentBytes) {
    Close();
    Open();
  }
  std::string line = SerializeRecord(record);
  line.push_back('\n');
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorCode::kServiceUnavailable, "the request log is unavailable",
                  "write " + path_ + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  written_ += static_cast<int64_t>(line.size());
  return static_cast<int64_t>(line.size());
}

SpoolBatch LogSpoolReader::Next(size_t max_records) {
  SpoolBatch batch;
  for (const Segment& s : ListSegments(dir_)) {
    if (batch.records.size() >= max_records) break;
    bool gone = WriterGone(s);  // before reading: a line written after this is read next time
    int64_t offset = CommittedOffset(s.path);
    std::ifstream in(s.path, std::ios::binary);
    if (!in) continue;
    in.seekg(offset);
    std::string line;
    int64_t pos = offset;
    bool hit_limit = false;
    while (true) {
      if (batch.records.size() >= max_records) {
        hit_limit = true;
        break;
      }
      if (!std::getline(in, line)) break;
      if (in.eof()) break;  // no newline: a line still being written (or torn)
      pos += static_cast<int64_t>(line.size()) + 1;
      RequestLogRecord record;
      if (ParseRecord(line, &record)) {
        batch.records.push_back(std::move(record));
      } else {
        ++batch.skipped_lines;
      }
    }
    SpoolRead read{s.path, pos, false};
    // Finished: the writer is done and nothing complete is left. A torn tail of a dead writer
    // is dropped with the segment.
    read.finished = gone && !hit_limit;
    batch.reads.push_back(read);
  }
  return batch;
}

void LogSpoolReader::Commit(const SpoolBatch& batch) {
  for (const SpoolRead& read : batch.reads) {
    std::error_code ec;
    if (read.finished) {
      fs::remove(read.segment, ec);
      fs::remove(read.segment + ".offset", ec);
    } else if (!fs::exists(read.segment, ec)) {
      // The writer renamed it to .closed meanwhile: its offset file moved with it, and the
      // rows read now may be read again from there (PostgreSQL drops the repeats).
      fs::remove(read.segment + ".offset", ec);
    } else if (read.end_offset != CommittedOffset(read.segment)) {
      WriteOffset(read.segment, read.end_offset);
    }
  }
}

int64_t LogSpoolReader::PendingBytes() const {
  int64_t total = 0;
  for (const Segment& s : ListSegments(dir_)) {
    total += std::max<int64_t>(0, s.size - CommittedOffset(s.path));
  }
  return total;
}

}  // namespace scanline
