-- The storage classes node sets may use, managed by platform admins (issue 9). A new node set that names no
-- class gets the default one; at most one class is the default.
CREATE TABLE storage_classes (
    name       text PRIMARY KEY CHECK (char_length(name) BETWEEN 1 AND 253),
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX storage_classes_one_default_key ON storage_classes (is_default) WHERE is_default;

INSERT INTO storage_classes (name, is_default) VALUES ('standard', true);
-- Classes live clusters already use stay offered, so that nothing that worked before is refused now.
INSERT INTO storage_classes (name)
SELECT DISTINCT ns->>'storage_class'
FROM clusters c, jsonb_array_elements(c.spec->'node_sets') ns
WHERE c.deleted_at IS NULL AND ns->>'storage_class' IS NOT NULL
ON CONFLICT (name) DO NOTHING;
