"""The demo city 云川市 (fictional, codes 99xxxx): ``civicgrid demo load`` builds it through the
production services, for trying the platform, training and screenshots."""
