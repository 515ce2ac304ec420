enum SluiceTestingModule {}
