// ScriptedSeedLinkServer: a SeedLink server for client tests, speaking v3
// or v4 from a script. A real TCP socket on 127.0.0.1 (a free port); one
// thread accepts connections one at a time and runs a script for each (the
// i-th connection runs scripts[i], the last script for any later one).
// Everything is bounded: each read waits at most a few seconds and throws
// (ending that connection), and the destructor stops the thread.
//
// Also: builders for the packets a server sends (common/seedlink_wire.h's
// framing) and a handshake responder that answers HELLO ... END.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace seisvault::test {

class ScriptedSeedLinkServer {
 public:
  class Connection {
   public:
    Connection(int fd, int index, const std::atomic<bool>* stop) : fd_(fd), index_(index), stop_(stop) {}
    int index() const { return index_; }

    // The next command line (ended by CR, LF or CRLF), without its end.
    // Throws std::runtime_error when the client closes, or after `timeout`.
    std::string read_command(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Sends the bytes (blocking at most 5 s; throws if the client is gone).
    void send(std::string_view bytes);
    // Sends the bytes in pieces of 1..max_piece bytes, with a short pause
    // between pieces, so that the client's reads see them fragmented.
    void send_in_pieces(std::string_view bytes, size_t max_piece);
    // Waits until the client closes the connection; true if it did within
    // `timeout`. Lines it sends meanwhile are kept for read_command().
    bool wait_closed(std::chrono::milliseconds timeout);

    // Every command read, in order.
    std::vector<std::string> commands;

   private:
    bool fill(std::chrono::steady_clock::time_point deadline);  // false: timeout
    int fd_;
    int index_;
    const std::atomic<bool>* stop_;
    std::string in_;
    bool closed_ = false;
  };
  using Script = std::function<void(Connection&)>;

  explicit ScriptedSeedLinkServer(std::vector<Script> scripts);
  ~ScriptedSeedLinkServer();
  ScriptedSeedLinkServer(const ScriptedSeedLinkServer&) = delete;
  ScriptedSeedLinkServer& operator=(const ScriptedSeedLinkServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Connections whose script has finished.
  int finished() const { return finished_; }
  // The commands of each finished connection.
  std::vector<std::vector<std::string>> commands() const;
  // What scripts threw (timeouts, a client gone), as text.
  std::vector<std::string> errors() const;

 private:
  void run();
  std::vector<Script> scripts_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> finished_{0};
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> commands_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

// How the handshake responder answers.
struct SeedLinkHandshake {
  bool v4 = true;                         // HELLO offers SLPROTO:4.0 (and 3.1), else only 3.1
  std::set<std::string> refuse_stations;  // NET_STA answered ERROR
  std::set<std::string> refuse_selectors; // SELECT patterns answered ERROR
};

// What the client asked for in a handshake.
struct SeedLinkRequest {
  std::vector<std::string> commands;               // every command, HELLO to END/ENDFETCH
  std::map<std::string, std::string> data;         // NET_STA -> the DATA/FETCH command ("DATA 1235")
  std::map<std::string, std::vector<std::string>> selects;  // NET_STA -> SELECT patterns
  bool v4 = false;                                 // the client said SLPROTO 4.0
  std::string end;                                 // "END" or "ENDFETCH"
};

// Answers HELLO, SLPROTO, USERAGENT, STATION, SELECT, DATA/FETCH up to
// END/ENDFETCH (which gets no answer). Throws if something else comes.
SeedLinkRequest serve_handshake(ScriptedSeedLinkServer::Connection& c, const SeedLinkHandshake& h = {});

// Waits (at most `timeout`) until `n` connections have finished their script.
bool eventually_finished(const ScriptedSeedLinkServer& server, int n,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// Packets.
std::string v3_packet(uint64_t sequence, const std::vector<uint8_t>& record);
std::string v3_info_packet(bool more_follow, const std::vector<uint8_t>& record);
std::string v4_packet(uint64_t sequence, std::string_view station_id, const std::vector<uint8_t>& payload,
                      char format = '2', char subformat = 'D');
std::string v4_json_packet(char subformat, std::string_view json);

// `count` miniSEED 2 records of NET.STA.00.HHZ, `record_length` bytes each.
std::vector<std::vector<uint8_t>> station_records(const std::string& network, const std::string& station,
                                                  size_t count, int record_length = 512, uint32_t seed = 1,
                                                  bool big_endian = true);
// One 512-byte INFO record (network XX, station INFO, channel INF, text).
std::vector<uint8_t> info_record(std::string_view xml);

}  // namespace seisvault::test
