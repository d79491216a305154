-- AlterTable
ALTER TABLE `MediaAsset` ADD COLUMN `metadata` JSON NULL;
