def main():
    print(3)

if __name__ == '__main__':
    main()

x = 1
