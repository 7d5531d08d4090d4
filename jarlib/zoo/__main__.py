from jarlib.zoo import main

raise SystemExit(main())
