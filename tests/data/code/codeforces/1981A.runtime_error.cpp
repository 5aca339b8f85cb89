#include <iostream>
#include <vector>
int main() {
  std::vector<int> v;
  std::cout << v.at(3) << "\n";  // throws std::out_of_range: terminate, SIGABRT
}
