enum SluiceLMDBModule {}
