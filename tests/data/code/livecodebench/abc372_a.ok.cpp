#include <iostream>
#include <string>
int main() {
  std::string s, out; std::cin >> s;
  for (char c : s) if (c != '.') out += c;
  std::cout << out << "\n";
}
