// r1lab_openai_stub — a minimal OpenAI-compatible server on loopback, for tests and for measuring r1lab's
// own overhead (it answers at once, from one thread, with epoll). Never a model: the text is a
// deterministic function of (prompt, seed, choice), so a rerun gets the same samples and a killed run
// that resumes can be compared with one that was not killed.
//
//   r1lab_openai_stub [--port 0] [--model stub] [--delay-ms 0] [--no-n] [--reasoning-field]
//                     [--malformed] [--answers FILE]
//
// Prints "port N" on stdout once listening. --answers: JSON lines {"contains": text, "answer": text}; a
// prompt containing the text gets \boxed{answer} in about half of its samples (decided by the hash),
// so grading has right and wrong answers to tell apart. --no-n answers one choice whatever n says (as
// some servers do). --reasoning-field puts the thinking in "reasoning_content" (DeepSeek's API, vLLM's
// reasoning parser). --malformed answers 200 with a body that is not JSON.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  std::string model = "stub";
  int delay_ms = 0;
  bool honour_n = true;
  bool reasoning_field = false;
  bool malformed = false;
  std::vector<std::pair<std::string, std::string>> answers;
};

struct Connection {
  std::string in, out;
  std::uint64_t serial = 0;
  bool close_after = false;
  bool waiting = false;   // a delayed answer is scheduled
};

struct Timer {
  Clock::time_point due;
  int fd;
  std::uint64_t serial;
  std::string response;
  bool operator>(const Timer& other) const { return due > other.due; }
};

std::uint64_t fnv1a(const std::string& text, std::uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string http_response(int status, const std::string& body, bool keep_alive) {
  const char* reason = status == 200 ? "OK" : status == 404 ? "Not Found" : status == 400 ? "Bad Request" : "Error";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + (keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n") + body;
}

std::size_t word_count(const std::string& text) {
  std::size_t words = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    bool space = std::isspace(c);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// The deterministic answer of one choice.
std::pair<std::string, std::string> choice_text(const Options& options, const std::string& prompt, std::int64_t seed, int choice) {
  std::uint64_t h = fnv1a(prompt, static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(choice));
  std::string answer = std::to_string(h % 1000);
  for (const auto& [contains, right] : options.answers)
    if (prompt.find(contains) != std::string::npos && (h >> 20) % 2 == 0) answer = right;
  std::string reasoning = "Stub reasoning " + std::to_string(h % 100000) + " for this prompt.";
  std::string content = "The answer is \\boxed{" + answer + "}.";
  return {reasoning, content};
}

std::pair<int, std::string> handle(const Options& options, const std::string& method, const std::string& path,
                                   const std::string& body) {
  if (method == "GET" && (path == "/v1/models" || path == "/models"))
    return {200, nlohmann::json{{"object", "list"}, {"data", {{{"id", options.model}, {"object", "model"}}}}}.dump()};
  if (method == "GET" && path == "/health") return {200, "{}"};
  bool chat = path == "/v1/chat/completions";
  if (method != "POST" || (!chat && path != "/v1/completions"))
    return {404, R"({"error":{"message":"no such route","type":"NotFoundError","code":404}})"};
  auto request = nlohmann::json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object())
    return {400, R"({"error":{"message":"the body is not JSON","type":"BadRequestError","code":400}})"};
  std::string model = request.value("model", "");
  if (model != options.model)
    return {404, nlohmann::json{{"error", {{"message", "The model `" + model + "` does not exist."}, {"type", "NotFoundError"}, {"code", 404}}}}.dump()};
  if (options.malformed) return {200, "{\"choices\": [ this is not json"};
  std::string prompt;
  if (chat) {
    for (const auto& m : request.value("messages", nlohmann::json::array())) prompt += m.value("content", "") + "\n";
  } else {
    prompt = request.value("prompt", "");
  }
  int n = options.honour_n ? request.value("n", 1) : 1;
  std::int64_t seed = request.value("seed", static_cast<std::int64_t>(0));
  nlohmann::json choices = nlohmann::json::array();
  std::size_t tokens = 0;
  for (int i = 0; i < n; ++i) {
    auto [reasoning, content] = choice_text(options, prompt, seed, i);
    tokens += word_count(reasoning) + word_count(content) + 2;
    if (chat) {
      nlohmann::json message = {{"role", "assistant"}};
      if (options.reasoning_field) {
        message["reasoning_content"] = reasoning;
        message["content"] = content;
      } else {
        message["content"] = "<think>\n" + reasoning + "\n</think>\n\n" + content;
      }
      choices.push_back({{"index", i}, {"message", message}, {"finish_reason", "stop"}});
    } else {
      choices.push_back({{"index", i}, {"text", reasoning + "\n</think>\n\n" + content}, {"finish_reason", "stop"}});
    }
  }
  nlohmann::json answer = {{"id", "stub-" + std::to_string(fnv1a(prompt) % 1000000)},
                           {"object", chat ? "chat.completion" : "text_completion"},
                           {"model", options.model},
                           {"choices", choices},
                           {"usage", {{"prompt_tokens", word_count(prompt)}, {"completion_tokens", tokens},
                                      {"total_tokens", word_count(prompt) + tokens}}}};
  return {200, answer.dump()};
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "r1lab_openai_stub: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--port") options.port = std::stoi(value());
    else if (arg == "--model") options.model = value();
    else if (arg == "--delay-ms") options.delay_ms = std::stoi(value());
    else if (arg == "--no-n") options.honour_n = false;
    else if (arg == "--reasoning-field") options.reasoning_field = true;
    else if (arg == "--malformed") options.malformed = true;
    else if (arg == "--answers") {
      std::ifstream in(value());
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        options.answers.emplace_back(j.at("contains").get<std::string>(), j.at("answer").get<std::string>());
      }
    } else {
      std::cerr << "r1lab_openai_stub: unknown argument " << arg << "\n";
      std::exit(2);
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  Options options = parse_options(argc, argv);
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(options.port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 4096) != 0) {
    std::perror("r1lab_openai_stub: bind/listen");
    return 1;
  }
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("port %d\n", ntohs(address.sin_port));
  std::fflush(stdout);

  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = listener;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
  std::unordered_map<int, Connection> connections;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::uint64_t next_serial = 1;

  auto close_connection = [&](int fd) {
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    connections.erase(fd);
  };
  // Writes what is pending; waits for EPOLLOUT when the socket is full.
  auto flush = [&](int fd) -> bool {
    Connection& c = connections[fd];
    while (!c.out.empty()) {
      ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.fd = fd;
        ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &e);
        return true;
      }
      if (n <= 0) return false;
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &e);
    return !c.close_after;
  };
  // Answers every complete request in the buffer (one at a time when answers are delayed).
  auto serve = [&](int fd) -> bool {
    Connection& c = connections[fd];
    while (!c.waiting) {
      auto header_end = c.in.find("\r\n\r\n");
      if (header_end == std::string::npos) return true;
      std::string head = c.in.substr(0, header_end);
      std::string lowered = lower(head);
      std::size_t content_length = 0;
      auto at = lowered.find("\r\ncontent-length:");
      if (at != std::string::npos) content_length = std::stoul(lowered.substr(at + 17));
      if (c.in.size() < header_end + 4 + content_length) return true;
      std::string body = c.in.substr(header_end + 4, content_length);
      c.in.erase(0, header_end + 4 + content_length);
      auto first_space = head.find(' ');
      auto second_space = head.find(' ', first_space + 1);
      std::string method = head.substr(0, first_space);
      std::string path = head.substr(first_space + 1, second_space - first_space - 1);
      c.close_after = lowered.find("\r\nconnection: close") != std::string::npos;
      auto [status, answer] = handle(options, method, path, body);
      std::string response = http_response(status, answer, !c.close_after);
      if (options.delay_ms > 0 && method == "POST") {
        c.waiting = true;
        timers.push({Clock::now() + std::chrono::milliseconds(options.delay_ms), fd, c.serial, std::move(response)});
        return true;
      }
      c.out += response;
      if (!flush(fd)) return false;
    }
    return true;
  };

  std::vector<epoll_event> events(1024);
  char buffer[65536];
  while (true) {
    int timeout = -1;
    if (!timers.empty())
      timeout = static_cast<int>(std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                            timers.top().due - Clock::now()).count()));
    int ready = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), timeout);
    for (int i = 0; i < ready; ++i) {
      int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == listener) {
        while (true) {
          int client = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (client < 0) break;
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.fd = client;
          ::epoll_ctl(epoll, EPOLL_CTL_ADD, client, &e);
          connections[client] = Connection{};
          connections[client].serial = next_serial++;
        }
        continue;
      }
      bool alive = true;
      if (events[static_cast<std::size_t>(i)].events & EPOLLOUT) alive = flush(fd);
      if (alive && (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        while (true) {
          ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
          if (n > 0) {
            connections[fd].in.append(buffer, static_cast<std::size_t>(n));
            continue;
          }
          if (n < 0 && errno == EAGAIN) break;
          alive = false;  // closed by the client or an error
          break;
        }
        if (alive) alive = serve(fd);
      }
      if (!alive) close_connection(fd);
    }
    auto now = Clock::now();
    while (!timers.empty() && timers.top().due <= now) {
      Timer timer = timers.top();
      timers.pop();
      auto it = connections.find(timer.fd);
      if (it == connections.end() || it->second.serial != timer.serial) continue;  // the client went away
      it->second.waiting = false;
      it->second.out += timer.response;
      if (!flush(timer.fd) || !serve(timer.fd)) close_connection(timer.fd);
    }
  }
}
